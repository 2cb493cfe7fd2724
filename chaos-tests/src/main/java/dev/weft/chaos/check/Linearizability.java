package dev.weft.chaos.check;

import dev.weft.chaos.history.History;
import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Checks that the register operations of a history (READ, WRITE, CAS) are linearizable (STALE_READs only lend
 * their (value, ModifyIndex) pairs; they and the other kinds are left to their own checkers), key by key: a register history is linearizable exactly when the
 * history of each key is (P-compositionality), so every key is searched on its own.
 *
 * <p>Per key it runs {@link LinearizationSearch} over {@link RegisterModel}. FAIL operations are removed; an
 * UNKNOWN write or CAS may take effect at any point after its invoke, or never. The search is bounded: a key
 * that needs more than {@link Budget#maxStepsPerKey()} steps, or that is still running when the whole check has
 * used {@link Budget#timeLimit()}, gets the verdict UNKNOWN instead of an answer. Memory grows with the steps,
 * so the step budget also bounds it: the default 10 million steps take about 2 s and fit in 400 MB of heap.
 *
 * <p>For Consul's {@code PUT ?cas=<ModifyIndex>}, record a CAS with {@code modifyIndex} set (and the value read
 * with that index in {@code expected}), give every write a value unique per key, and record the ModifyIndex of
 * every read: the model then learns which write each index belongs to and checks index order as well.
 */
public final class Linearizability {

    public enum Verdict { LINEARIZABLE, VIOLATION, UNKNOWN }

    /** Bounds the search: steps per key and wall time for the whole check. */
    public record Budget(long maxStepsPerKey, Duration timeLimit) {
        public static final Budget DEFAULT = new Budget(10_000_000, Duration.ofMinutes(2));

        public Budget {
            if (maxStepsPerKey <= 0 || timeLimit.isNegative() || timeLimit.isZero()) {
                throw new IllegalArgumentException("budget must be positive");
            }
        }
    }

    /**
     * Why a key is not linearizable: the longest prefix of its operations that could be linearized, the state
     * after it, and the operations that then had to come next but could not be placed.
     */
    public record Violation(String key, String reason, List<Operation> prefix, String stateAfterPrefix,
                            List<Operation> unplaced) {

        /** A multi-line explanation; the prefix is shortened to its last {@code tail} operations. */
        public String describe(int tail) {
            StringBuilder b = new StringBuilder();
            b.append("key ").append(key).append(": ").append(reason).append('\n');
            if (!prefix.isEmpty() || stateAfterPrefix != null) {
                b.append("  longest linearizable prefix: ").append(prefix.size()).append(" operations");
                if (prefix.size() > tail) {
                    b.append(", the last ").append(tail);
                }
                b.append('\n');
                for (Operation op : prefix.subList(Math.max(0, prefix.size() - tail), prefix.size())) {
                    b.append("    ").append(op).append('\n');
                }
                b.append("  state after it: ").append(stateAfterPrefix).append('\n');
            }
            b.append("  could not place:\n");
            for (Operation op : unplaced) {
                b.append("    ").append(op).append('\n');
            }
            return b.toString();
        }
    }

    /** The verdict for one key; {@code violation} is set for VIOLATION, {@code note} says why for UNKNOWN. */
    public record KeyResult(String key, Verdict verdict, int operations, long steps, Violation violation,
                            String note) {
    }

    /** VIOLATION if any key is not linearizable, else UNKNOWN if any key ran out of budget, else LINEARIZABLE. */
    public record Result(Verdict verdict, List<KeyResult> keys) {

        public boolean isLinearizable() {
            return verdict == Verdict.LINEARIZABLE;
        }

        public List<Violation> violations() {
            return keys.stream().filter(k -> k.violation() != null).map(KeyResult::violation).toList();
        }

        public String describe() {
            StringBuilder b = new StringBuilder("linearizability: ").append(verdict).append(" (")
                    .append(keys.size()).append(" keys)\n");
            for (KeyResult k : keys) {
                if (k.verdict() == Verdict.VIOLATION) {
                    b.append(k.violation().describe(10));
                } else if (k.verdict() == Verdict.UNKNOWN) {
                    b.append("key ").append(k.key()).append(": unknown, ").append(k.note()).append('\n');
                }
            }
            return b.toString();
        }
    }

    private final Budget budget;
    private final LongSupplier nanoClock;

    public Linearizability() {
        this(Budget.DEFAULT, System::nanoTime);
    }

    public Linearizability(Budget budget) {
        this(budget, System::nanoTime);
    }

    /** {@code nanoClock} measures the time budget (monotonic nanoseconds). */
    public Linearizability(Budget budget, LongSupplier nanoClock) {
        this.budget = Objects.requireNonNull(budget);
        this.nanoClock = Objects.requireNonNull(nanoClock);
    }

    public Result check(History history) {
        return check(history.operations());
    }

    /**
     * @throws IllegalArgumentException when the history cannot be checked as recorded (a CAS answered OK without
     *                                  true/false, or ModifyIndexes recorded while a key's written values repeat)
     */
    public Result check(List<Operation> operations) {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation op : operations) {
            if (op.kind() == Kind.READ || op.kind() == Kind.WRITE || op.kind() == Kind.CAS
                    || op.kind() == Kind.STALE_READ) {
                byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        long deadline = nanoClock.getAsLong() + budget.timeLimit().toNanos();
        List<KeyResult> results = new ArrayList<>();
        Verdict overall = Verdict.LINEARIZABLE;
        for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
            KeyResult r = checkKey(e.getKey(), e.getValue(), deadline);
            results.add(r);
            if (r.verdict() == Verdict.VIOLATION) {
                overall = Verdict.VIOLATION;
            } else if (r.verdict() == Verdict.UNKNOWN && overall == Verdict.LINEARIZABLE) {
                overall = Verdict.UNKNOWN;
            }
        }
        return new Result(overall, List.copyOf(results));
    }

    private KeyResult checkKey(String key, List<Operation> ops, long deadline) {
        if (nanoClock.getAsLong() - deadline > 0) {
            return new KeyResult(key, Verdict.UNKNOWN, ops.size(), 0, null, "time budget spent before this key");
        }
        RegisterModel.Prepared p = RegisterModel.prepare(ops);
        if (p.contradiction() != null) {
            Violation v = new Violation(key, p.contradiction(), List.of(), null, p.witnesses());
            return new KeyResult(key, Verdict.VIOLATION, ops.size(), 0, v, null);
        }
        LinearizationSearch.Found f = LinearizationSearch.run(p.task(), p.model(), budget.maxStepsPerKey(),
                () -> nanoClock.getAsLong() - deadline > 0);
        return switch (f.verdict()) {
            case LINEARIZABLE -> new KeyResult(key, Verdict.LINEARIZABLE, ops.size(), f.steps(), null, null);
            case VIOLATION -> new KeyResult(key, Verdict.VIOLATION, ops.size(), f.steps(),
                    new Violation(key, "not linearizable", f.longestPrefix(), f.stateAfterPrefix(), f.unplaced()),
                    null);
            case UNKNOWN -> new KeyResult(key, Verdict.UNKNOWN, ops.size(), f.steps(), null,
                    "search budget spent after " + f.steps() + " steps (longest linearizable prefix "
                            + f.longestPrefix().size() + " of " + p.task().ops().size() + " operations)");
        };
    }
}
