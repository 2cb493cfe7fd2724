package dev.weft.agent.checks;

import dev.weft.agent.checks.CheckDefinition.Kind;
import dev.weft.agent.http.GoDuration;
import dev.weft.kvstore.state.Catalogs;
import dev.weft.kvstore.state.HealthStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs this agent's health checks (Consul's CheckHTTP, CheckTCP and CheckTTL) and reports every result to a
 * {@link Listener}; deduplicating and writing results is the listener's business.
 *
 * <p><b>Scheduling.</b> An HTTP or TCP check first runs at a random point within its interval (Consul's stagger),
 * then {@code interval} after each run completes, so a run never overlaps the previous one. Intervals below the
 * minimum (1 s, as Consul) are raised to it. A TTL check starts in its definition's status and turns critical
 * ("TTL expired") when {@link #ttlUpdate} is not called within its TTL.
 *
 * <p><b>Isolation.</b> Probes are asynchronous (one Netty event loop, see {@link ProbeClient}); two scheduler
 * threads only start probes, fire TTL deadlines and deliver results. A hanging endpoint costs only its own check
 * its timeout.
 *
 * <p><b>Listener.</b> Called from these threads (and from the caller of {@link #ttlUpdate}), never while this class
 * holds a lock, so it may take its own locks and call back into this class. After {@link #remove} or a replacing
 * {@link #add} returns, one result of the old check that was already being delivered may still arrive; a listener
 * that needs exactness drops updates for IDs it no longer knows.
 *
 * <p><b>Metrics.</b> {@code weft.checks.runs} (counter; tags {@code type}, {@code status}), {@code weft.checks.running}
 * (gauge: registered checks; tag {@code type}), {@code weft.checks.inflight} (gauge: probes waiting for an answer),
 * {@code weft.checks.duration} (timer; tag {@code type}: HTTP and TCP probe latency).
 */
public final class HealthChecks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthChecks.class);

    /** Consul's MinInterval: intervals below it are raised to it. */
    public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    private static final int LOGGED_OUTPUT_CHARS = 200;
    private static final Duration WATCHDOG_GRACE = Duration.ofSeconds(2);

    /** Receives every check result. Must be quick; may be called from several threads at once. */
    public interface Listener {
        void update(String checkId, HealthStatus status, String output);
    }

    private final Listener listener;
    private final Duration minInterval;
    private final ScheduledThreadPoolExecutor scheduler;
    private final Executor deliver;
    private final ProbeClient probes;
    private final Map<String, Runner> checks = new ConcurrentHashMap<>();
    private final Object lifecycle = new Object();
    private boolean closed; // guarded by lifecycle

    private final MeterRegistry registry;
    private final Map<Kind, Map<HealthStatus, Counter>> runs = new EnumMap<>(Kind.class);
    private final Map<Kind, Timer> durations = new EnumMap<>(Kind.class);
    private final AtomicInteger inflight = new AtomicInteger();
    private final List<Meter> gauges = new ArrayList<>();

    public HealthChecks(Listener listener, MeterRegistry registry) {
        this(listener, registry, MIN_INTERVAL);
    }

    /**
     * As {@link #HealthChecks(Listener, MeterRegistry)} with another minimum interval: for tests, which need checks
     * that run every 100 ms.
     */
    public HealthChecks(Listener listener, MeterRegistry registry, Duration minInterval) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.registry = Objects.requireNonNull(registry, "registry");
        if (minInterval.isNegative() || minInterval.isZero()) {
            throw new IllegalArgumentException("minInterval must be > 0");
        }
        this.minInterval = minInterval;
        this.scheduler = new ScheduledThreadPoolExecutor(2, new DefaultThreadFactory("weft-checks", true));
        this.scheduler.setRemoveOnCancelPolicy(true);
        this.deliver = task -> {
            try {
                scheduler.execute(task);
            } catch (RejectedExecutionException e) {
                // closing: results are dropped
            }
        };
        this.probes = new ProbeClient();
        for (Kind k : Kind.values()) {
            String type = k.name().toLowerCase(Locale.ROOT);
            Map<HealthStatus, Counter> byStatus = new EnumMap<>(HealthStatus.class);
            for (HealthStatus s : HealthStatus.values()) {
                byStatus.put(s, Counter.builder("weft.checks.runs").description("Health check results")
                        .tag("type", type).tag("status", s.wire()).register(registry));
            }
            runs.put(k, byStatus);
            durations.put(k, Timer.builder("weft.checks.duration").description("Time an HTTP or TCP check run took")
                    .tag("type", type).register(registry));
            gauges.add(Gauge.builder("weft.checks.running", this, hc -> hc.count(k))
                    .description("Health checks registered with this agent").tag("type", type).register(registry));
        }
        gauges.add(Gauge.builder("weft.checks.inflight", inflight, AtomicInteger::get)
                .description("Health check probes waiting for an answer").register(registry));
    }

    /**
     * Starts running {@code def}. A check with the same ID is stopped first and replaced. Never blocks on the
     * network and never calls the listener.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public void add(CheckDefinition def) {
        Runner r = def.kind() == Kind.TTL ? new TtlRunner(def) : new IntervalRunner(def);
        Runner old;
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("health checks are closed");
            }
            old = checks.put(def.checkId(), r);
            if (old != null) {
                old.stop();
            }
            r.start();
        }
        log.info("checks: {} check {} {} ({})", old == null ? "started" : "replaced", def.type(), def.checkId(),
                describe(def));
        if (def.kind() != Kind.TTL && def.interval().compareTo(minInterval) < 0) {
            log.warn("checks: check {} has interval {} below the minimum; running it every {}", def.checkId(),
                    def.intervalText(), GoDuration.format(minInterval));
        }
    }

    /** Stops and forgets a check; unknown IDs are ignored. Never blocks on the network. */
    public void remove(String checkId) {
        Runner r;
        synchronized (lifecycle) {
            r = checks.remove(checkId);
            if (r != null) {
                r.stop();
            }
        }
        if (r != null) {
            log.info("checks: stopped check {}", checkId);
        }
    }

    /**
     * Sets a TTL check's status and output (truncated to 4 KiB) and restarts its TTL; the listener hears of it
     * before this returns.
     *
     * @return false when no check has this ID or it is not a TTL check
     */
    public boolean ttlUpdate(String checkId, HealthStatus status, String output) {
        Objects.requireNonNull(status, "status");
        return checks.get(checkId) instanceof TtlRunner t && t.update(status, output);
    }

    /** The IDs of the checks being run. */
    public Set<String> ids() {
        return Set.copyOf(checks.keySet());
    }

    /** Stops every check and the threads; results still in flight are dropped. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            for (Runner r : checks.values()) {
                r.stop();
            }
            checks.clear();
        }
        scheduler.shutdownNow();
        probes.close();
        for (Meter g : gauges) {
            registry.remove(g);
        }
    }

    private ScheduledFuture<?> scheduleOrNull(Runnable task, Duration delay) {
        try {
            return scheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null; // closing
        }
    }

    private int count(Kind k) {
        int n = 0;
        for (Runner r : checks.values()) {
            if (r.def.kind() == k) {
                n++;
            }
        }
        return n;
    }

    private static String describe(CheckDefinition d) {
        return switch (d.kind()) {
            case HTTP -> d.method() + " " + d.http() + " every " + d.intervalText() + ", timeout " + d.timeoutText();
            case TCP -> d.tcp() + " every " + d.intervalText() + ", timeout " + d.timeoutText();
            case TTL -> "TTL " + GoDuration.format(d.ttl()) + ", initially " + d.status().wire();
        };
    }

    private static String oneLine(String output) {
        String s = output.length() > LOGGED_OUTPUT_CHARS ? output.substring(0, LOGGED_OUTPUT_CHARS) + "…" : output;
        return s.replace('\r', ' ').replace('\n', ' ');
    }

    /** One registered check. */
    private abstract class Runner {
        final CheckDefinition def;
        volatile boolean stopped;
        private HealthStatus lastLogged; // only for logging transitions; guarded by this

        Runner(CheckDefinition def) {
            this.def = def;
            this.lastLogged = def.status();
        }

        abstract void start();

        /** Idempotent, lock-free apart from this runner's own short locks; never calls the listener. */
        abstract void stop();

        void report(HealthStatus status, String output) {
            if (stopped) {
                return;
            }
            runs.get(def.kind()).get(status).increment();
            boolean changed;
            synchronized (this) {
                changed = lastLogged != status;
                lastLogged = status;
            }
            if (changed) {
                if (status == HealthStatus.PASSING) {
                    log.info("checks: check {} is now passing: {}", def.checkId(), oneLine(output));
                } else {
                    log.warn("checks: check {} is now {}: {}", def.checkId(), status.wire(), oneLine(output));
                }
            } else if (log.isDebugEnabled()) {
                log.debug("checks: check {} is {}: {}", def.checkId(), status.wire(), oneLine(output));
            }
            try {
                listener.update(def.checkId(), status, output);
            } catch (RuntimeException e) {
                log.warn("checks: listener failed on check {}: {}", def.checkId(), e.toString());
            }
        }
    }

    /** HTTP and TCP: probe, wait for the answer, report, wait an interval, again. */
    private final class IntervalRunner extends Runner {
        private final long intervalNanos;
        private ScheduledFuture<?> next; // guarded by this
        private CompletableFuture<CheckResult> running; // guarded by this

        IntervalRunner(CheckDefinition def) {
            super(def);
            Duration interval = def.interval().compareTo(minInterval) < 0 ? minInterval : def.interval();
            this.intervalNanos = interval.toNanos();
        }

        @Override
        void start() {
            schedule(ThreadLocalRandom.current().nextLong(intervalNanos)); // Consul's RandomStagger
        }

        private synchronized void schedule(long delayNanos) {
            if (stopped) {
                return;
            }
            try {
                next = scheduler.schedule(this::run, delayNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                stopped = true; // closing
            }
        }

        private void run() {
            CompletableFuture<CheckResult> probe;
            long started = System.nanoTime();
            synchronized (this) {
                if (stopped || running != null) {
                    return; // the previous run is still in flight
                }
                try {
                    probe = def.kind() == Kind.HTTP ? probes.http(def) : probes.tcp(def.tcp(), def.timeout());
                } catch (RuntimeException | LinkageError e) {
                    log.error("checks: check {} could not start a probe: {}", def.checkId(), e.toString());
                    probe = CompletableFuture.completedFuture(new CheckResult(HealthStatus.CRITICAL, e.toString()));
                }
                running = probe;
                inflight.incrementAndGet();
            }
            // Safety net: the probe has its own deadline; should it ever fail to complete, the check goes on.
            CompletableFuture<CheckResult> p = probe;
            ScheduledFuture<?> watchdog = scheduleOrNull(() -> p.complete(new CheckResult(HealthStatus.CRITICAL,
                    "check run did not finish within " + def.timeoutText())), def.timeout().plus(WATCHDOG_GRACE));
            probe.whenCompleteAsync((result, error) -> {
                if (watchdog != null) {
                    watchdog.cancel(false);
                }
                inflight.decrementAndGet();
                synchronized (this) {
                    running = null;
                }
                if (stopped) {
                    return;
                }
                try {
                    durations.get(def.kind()).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                    CheckResult r = result != null ? result
                            : new CheckResult(HealthStatus.CRITICAL, String.valueOf(error));
                    report(r.status(), r.output());
                } finally {
                    schedule(intervalNanos);
                }
            }, deliver);
        }

        @Override
        void stop() {
            ScheduledFuture<?> n;
            CompletableFuture<CheckResult> r;
            synchronized (this) {
                stopped = true;
                n = next;
                r = running;
            }
            if (n != null) {
                n.cancel(false);
            }
            if (r != null) {
                r.cancel(false); // closes its connection
            }
        }
    }

    /** TTL: the status comes from {@link #ttlUpdate}; a missed deadline turns it critical. */
    private final class TtlRunner extends Runner {
        private final long ttlNanos;
        // Guarded by this.
        private ScheduledFuture<?> expiry;
        private long generation;
        private HealthStatus lastStatus;
        private String lastOutput = "";

        TtlRunner(CheckDefinition def) {
            super(def);
            this.ttlNanos = def.ttl().toNanos();
            this.lastStatus = def.status();
        }

        @Override
        synchronized void start() {
            arm();
        }

        /** Guarded by this. */
        private void arm() {
            if (expiry != null) {
                expiry.cancel(false);
            }
            long gen = ++generation;
            try {
                expiry = scheduler.schedule(() -> expire(gen), ttlNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                stopped = true; // closing
            }
        }

        boolean update(HealthStatus status, String output) {
            String out = Catalogs.truncate(output, Catalogs.MAX_OUTPUT_BYTES);
            synchronized (this) {
                if (stopped) {
                    return false;
                }
                lastStatus = status;
                lastOutput = out;
                arm();
            }
            report(status, out);
            return true;
        }

        private void expire(long gen) {
            String out;
            synchronized (this) {
                if (stopped || gen != generation) {
                    return;
                }
                out = lastOutput.isEmpty() ? "TTL expired"
                        : "TTL expired (last output before timeout follows): " + lastOutput;
            }
            report(HealthStatus.CRITICAL, Catalogs.truncate(out, Catalogs.MAX_OUTPUT_BYTES));
            // An update that raced with this expiry may have been delivered before it; deliver the newest again
            // so the listener ends with it.
            long seen = gen;
            while (true) {
                HealthStatus s;
                String o;
                synchronized (this) {
                    if (stopped || generation == seen) {
                        return;
                    }
                    seen = generation;
                    s = lastStatus;
                    o = lastOutput;
                }
                report(s, o);
            }
        }

        @Override
        void stop() {
            ScheduledFuture<?> e;
            synchronized (this) {
                stopped = true;
                e = expiry;
            }
            if (e != null) {
                e.cancel(false);
            }
        }
    }
}
