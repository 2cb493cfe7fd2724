package dev.weft.chaos.history;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.chaos.history.Operation.Kind;
import dev.weft.chaos.history.Operation.Outcome;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * An append-only record of client operations, safe to use from many client threads at once.
 *
 * <p>A client calls {@link #invoke} just before sending a request (this stamps the invoke time) and then exactly
 * one completion method of the returned {@link Pending} when the answer arrives, when the request definitely
 * failed, or when it gave up waiting ({@link Pending#unknown()}). An operation that is still in flight when
 * {@link #operations()} is called appears as UNKNOWN: it may still take effect.
 *
 * <p>Histories are written and read as JSON lines, one {@link Operation} per line, so that a failing run can
 * be checked again later.
 */
public final class History {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final LongSupplier nanoClock;
    private final List<Operation> completed = new ArrayList<>();
    private long ok;
    private final Map<Long, Pending> inFlight = new LinkedHashMap<>();
    private long nextId;

    /** A history stamped with {@link System#nanoTime()}. */
    public History() {
        this(System::nanoTime);
    }

    /** A history stamped with the given clock (nanoseconds, monotonic, shared by all clients of the run). */
    public History(LongSupplier nanoClock) {
        this.nanoClock = Objects.requireNonNull(nanoClock);
    }

    /** What a client is about to ask; build with the factory methods. */
    public record Call(int process, String member, Kind kind, String key, String value, String expected,
                       Long modifyIndex) {

        public static Call read(int process, String key) {
            return new Call(process, null, Kind.READ, key, null, null, null);
        }

        public static Call staleRead(int process, String key) {
            return new Call(process, null, Kind.STALE_READ, key, null, null, null);
        }

        public static Call write(int process, String key, String value) {
            return new Call(process, null, Kind.WRITE, key, Objects.requireNonNull(value), null, null);
        }

        /** Compare-and-set on the value ({@code expected == null}: only if absent). */
        public static Call cas(int process, String key, String expected, String value) {
            return new Call(process, null, Kind.CAS, key, Objects.requireNonNull(value), expected, null);
        }

        /**
         * Consul's {@code PUT ?cas=<modifyIndex>} (0: only if absent); {@code readValue} is the value the client
         * read together with that index (recorded for the report; may be {@code null}).
         */
        public static Call casIndex(int process, String key, long modifyIndex, String readValue, String value) {
            return new Call(process, null, Kind.CAS, key, Objects.requireNonNull(value), readValue, modifyIndex);
        }

        public static Call add(int process, String set, String element) {
            return new Call(process, null, Kind.ADD, set, Objects.requireNonNull(element), null, null);
        }

        public static Call readAll(int process, String set) {
            return new Call(process, null, Kind.READ_ALL, set, null, null, null);
        }

        public static Call acquire(int process, String lock) {
            return new Call(process, null, Kind.ACQUIRE, lock, null, null, null);
        }

        public static Call release(int process, String lock) {
            return new Call(process, null, Kind.RELEASE, lock, null, null, null);
        }

        /** The same call, sent to (or through) the given server. */
        public Call on(String server) {
            return new Call(process, server, kind, key, value, expected, modifyIndex);
        }
    }

    /** An invoked operation waiting for its completion. Complete it exactly once. */
    public final class Pending {
        private final long id;
        private final Call call;
        private final long invokeNanos;

        private Pending(long id, Call call, long invokeNanos) {
            this.id = id;
            this.call = call;
            this.invokeNanos = invokeNanos;
        }

        /** A write, add or release was acknowledged. */
        public Operation ok() {
            return complete(call.value(), null, null, Outcome.OK);
        }

        /** A read answered {@code value} ({@code null}: absent) with this ModifyIndex ({@code null}: not recorded). */
        public Operation read(String value, Long modifyIndex) {
            return complete(value, modifyIndex, null, Outcome.OK);
        }

        /** A CAS or lock acquire answered true or false. */
        public Operation applied(boolean applied) {
            return complete(call.value(), call.modifyIndex(), applied, Outcome.OK);
        }

        /** A set read answered these elements. */
        public Operation readAll(List<String> values) {
            Operation op = operation(null, null, null, List.copyOf(values), nanoClock.getAsLong(), Outcome.OK);
            finish(op);
            return op;
        }

        /** The request definitely did not take effect. */
        public Operation fail() {
            return complete(call.value(), call.modifyIndex(), null, Outcome.FAIL);
        }

        /** The client gave up (timeout, broken connection): it may or may not take effect. */
        public Operation unknown() {
            return complete(call.value(), call.modifyIndex(), null, Outcome.UNKNOWN);
        }

        private Operation complete(String value, Long modifyIndex, Boolean applied, Outcome outcome) {
            Operation op = operation(value, modifyIndex, applied, null, nanoClock.getAsLong(), outcome);
            finish(op);
            return op;
        }

        private Operation operation(String value, Long modifyIndex, Boolean applied, List<String> values,
                                    long completeNanos, Outcome outcome) {
            return new Operation(id, call.process(), call.member(), call.kind(), call.key(), value, call.expected(),
                    modifyIndex, applied, values, invokeNanos, completeNanos, outcome);
        }
    }

    /** Stamps the invoke time of {@code call}; complete the returned operation when the answer arrives. */
    public Pending invoke(Call call) {
        Objects.requireNonNull(call);
        synchronized (this) {
            Pending p = new Pending(nextId++, call, nanoClock.getAsLong());
            inFlight.put(p.id, p);
            return p;
        }
    }

    /** The history's clock: nanoseconds on the same scale as every operation's invoke and complete times. */
    public long now() {
        return nanoClock.getAsLong();
    }

    /**
     * Records an operation that completed OK at a moment the client chose rather than when it was noticed: a
     * lock client records a RELEASE at the last moment its lock was certainly still held (its session may have
     * expired after that).
     */
    public synchronized Operation recordOk(Call call, long invokeNanos, long completeNanos) {
        Operation op = new Operation(nextId++, call.process(), call.member(), call.kind(), call.key(), call.value(),
                call.expected(), call.modifyIndex(), null, null, invokeNanos, completeNanos, Outcome.OK);
        add(op);
        return op;
    }

    /** Appends an operation recorded elsewhere (a replayed or simulated history). */
    public synchronized void record(Operation op) {
        add(Objects.requireNonNull(op));
        nextId = Math.max(nextId, op.id() + 1);
    }

    private synchronized void finish(Operation op) {
        if (inFlight.remove(op.id()) == null) {
            throw new IllegalStateException("operation " + op.id() + " was already completed");
        }
        add(op);
    }

    private void add(Operation op) { // under this
        completed.add(op);
        if (op.outcome() == Outcome.OK) {
            ok++;
        }
    }

    /** Operations completed OK so far. */
    public synchronized long okCount() {
        return ok;
    }

    /** Every operation, ordered by invoke time; the ones still in flight as UNKNOWN. */
    public List<Operation> operations() {
        List<Operation> all;
        synchronized (this) {
            all = new ArrayList<>(completed);
            long now = nanoClock.getAsLong();
            for (Pending p : inFlight.values()) {
                all.add(p.operation(p.call.value(), p.call.modifyIndex(), null, null, now, Outcome.UNKNOWN));
            }
        }
        all.sort(Comparator.comparingLong(Operation::invokeNanos).thenComparingLong(Operation::id));
        return List.copyOf(all);
    }

    public synchronized int size() {
        return completed.size() + inFlight.size();
    }

    /** Writes {@link #operations()} as JSON lines. */
    public void writeJsonLines(Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            writeJsonLines(w);
        }
    }

    public void writeJsonLines(Writer out) throws IOException {
        BufferedWriter w = out instanceof BufferedWriter b ? b : new BufferedWriter(out);
        for (Operation op : operations()) {
            w.write(JSON.writeValueAsString(op));
            w.newLine();
        }
        w.flush();
    }

    /** Reads a history written by {@link #writeJsonLines}; blank lines are skipped. */
    public static History readJsonLines(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return readJsonLines(r);
        }
    }

    public static History readJsonLines(Reader in) throws IOException {
        History h = new History();
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            try {
                h.record(JSON.readValue(line, Operation.class));
            } catch (IOException | IllegalArgumentException e) {
                throw new IOException("history line " + n + ": " + e.getMessage(), e);
            }
        }
        return h;
    }

    /** A history holding exactly these operations. */
    public static History of(List<Operation> ops) {
        History h = new History();
        ops.forEach(h::record);
        return h;
    }
}
