package dev.weft.registrator;

import dev.weft.runtime.Container;
import dev.weft.runtime.ContainerEvent;
import dev.weft.runtime.ContainerRuntime;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The reconciliation loop: keeps this node's docker services in the {@link ServiceSink} equal to the running
 * containers of a {@link ContainerRuntime}.
 *
 * <p>Everything runs on one thread ("weft-registrator"), so events apply in the order Docker sent them. A full
 * resync (list running → inspect each → map → diff with {@link ServiceSink#registeredIds()} → register what is
 * missing or changed, deregister the rest) runs on every (re)connection of the event stream, every
 * {@link RegistratorConfig#resync()}, and after any failed write or listing (backoff from
 * {@link RegistratorConfig#retryMin()} doubling to {@link RegistratorConfig#retryMax()}). Between resyncs, container
 * events apply the differences of one container. Only differences are written.
 *
 * <p>{@link #start()} never fails for want of Docker: the runtime's subscription keeps reconnecting, and nothing is
 * registered or removed until it connects. While Docker is away, services stay as they are (their Docker health
 * checks, no longer pushed, turn critical after {@link RegistratorConfig#healthTtl()}).
 */
public final class Registrator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Registrator.class);

    private final ContainerRuntime runtime;
    private final ServiceSink sink;
    private final RegistratorConfig cfg;
    private final Function<ContainerEvent, OptionalInt> exitCodes;
    private final ScheduledExecutorService loop;
    private final Counter resyncs;
    private final Counter errors;
    private final AtomicInteger serviceCount = new AtomicInteger();

    // State below is touched only on the loop thread.
    /** What this process registered (or found registered and identical), by service ID. */
    private final Map<String, RegisteredService> known = new HashMap<>();
    /** Container ID → IDs of its services in {@link #known}. */
    private final Map<String, Set<String>> byContainer = new HashMap<>();
    /** Definitions the sink refused as invalid: not retried until they change. */
    private final Map<String, RegisteredService> refused = new HashMap<>();
    /** Last status pushed per Docker health check ID. */
    private final Map<String, RegisteredService.DockerHealth> pushed = new HashMap<>();
    /** -deregister on-success: containers that failed and keep their services, → the output of their checks. */
    private final Map<String, String> retained = new HashMap<>();
    /** -deregister on-success: containers with a {@code kill} event not yet followed by their {@code die}. */
    private final Set<String> killed = new HashSet<>();
    private Duration backoff;
    private boolean retryPending;

    private volatile boolean connected;
    private volatile boolean closed;
    private volatile ContainerRuntime.Subscription subscription;
    private boolean started;

    /**
     * @param runtime  the container runtime (not closed by {@link #close()}: its owner closes it)
     * @param sink     where services are written
     * @param registry receives {@code weft.registrator.services}, {@code .resyncs}, {@code .errors}
     */
    public Registrator(ContainerRuntime runtime, ServiceSink sink, RegistratorConfig cfg, MeterRegistry registry) {
        this(runtime, sink, cfg, registry, ContainerEvent::exit);
    }

    /**
     * @param exitCodes the exit code a {@code die} event reports, for {@code -deregister on-success}; empty when
     *                  unknown (then the services are removed, as with {@code always})
     */
    Registrator(ContainerRuntime runtime, ServiceSink sink, RegistratorConfig cfg, MeterRegistry registry,
                Function<ContainerEvent, OptionalInt> exitCodes) {
        this.runtime = runtime;
        this.sink = sink;
        this.cfg = cfg;
        this.exitCodes = exitCodes;
        this.backoff = cfg.retryMin();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "weft-registrator");
            t.setDaemon(true);
            return t;
        });
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // a pending retry must not delay close()
        executor.setRemoveOnCancelPolicy(true);
        this.loop = executor;
        this.resyncs = Counter.builder("weft.registrator.resyncs")
                .description("full reconciliations of containers and services").register(registry);
        this.errors = Counter.builder("weft.registrator.errors")
                .description("failed Docker calls and service writes").register(registry);
        Gauge.builder("weft.registrator.services", serviceCount, AtomicInteger::get)
                .description("services registered for running containers").register(registry);
    }

    /**
     * Subscribes to container events (the first resync follows the connection) and starts the resync timer.
     * Returns at once; never throws because Docker is absent.
     */
    public synchronized void start() {
        if (started || closed) {
            return;
        }
        started = true;
        long every = cfg.resync().toMillis();
        loop.scheduleWithFixedDelay(() -> safely("timer", () -> {
            if (connected) {
                resync("timer");
            }
        }), every, every, TimeUnit.MILLISECONDS);
        subscribe();
    }

    private void subscribe() {
        if (closed) {
            return;
        }
        try {
            subscription = runtime.subscribe(new Listener());
        } catch (RuntimeException e) {
            errors.increment();
            log.warn("registrator: cannot subscribe to container events ({}); retrying in {} ms", e.toString(),
                    cfg.retryMax().toMillis());
            submitLater(cfg.retryMax(), "subscribe", this::subscribe);
        }
    }

    /** Stops the loop; services stay registered (the next start reconciles them). */
    @Override
    public void close() {
        closed = true;
        ContainerRuntime.Subscription s = subscription;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException e) {
                log.debug("registrator: closing the event subscription", e);
            }
        }
        loop.shutdown();
        try {
            if (!loop.awaitTermination(10, TimeUnit.SECONDS)) {
                loop.shutdownNow();
            }
        } catch (InterruptedException e) {
            loop.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Completes once the loop has done everything submitted before this call (tests use it as a barrier). */
    CompletableFuture<Void> drained() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            loop.execute(() -> done.complete(null));
        } catch (RejectedExecutionException e) {
            done.complete(null);
        }
        return done;
    }

    private final class Listener implements ContainerRuntime.EventListener {
        @Override
        public void onConnected() {
            connected = true;
            submit("connected", () -> resync("connected"));
        }

        @Override
        public void onEvent(ContainerEvent event) {
            submit(event.action(), () -> handle(event));
        }

        @Override
        public void onDisconnected(Throwable cause, long retryInMillis) {
            boolean was = connected;
            connected = false;
            if (was) {
                log.warn("registrator: container events lost ({}); reconnecting in {} ms; services stay as they are",
                        cause == null ? "closed" : cause.toString(), retryInMillis);
            } else {
                log.debug("registrator: container runtime unreachable ({}); retry in {} ms", cause, retryInMillis);
            }
        }
    }

    private void submit(String what, Runnable task) {
        if (closed) {
            return;
        }
        try {
            loop.execute(() -> safely(what, task));
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void submitLater(Duration delay, String what, Runnable task) {
        if (closed) {
            return;
        }
        try {
            loop.schedule(() -> safely(what, task), delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void safely(String what, Runnable task) {
        if (closed) {
            return;
        }
        try {
            task.run();
        } catch (RuntimeException e) {
            errors.increment();
            log.warn("registrator: {} failed", what, e);
            scheduleRetry();
        }
    }

    // ---- full resync ----

    private void resync(String reason) {
        resyncs.increment();
        boolean ok = true;
        List<String> running;
        try {
            running = runtime.runningContainerIds();
        } catch (Exception e) {
            failed("listing containers", e);
            return;
        }
        Map<String, RegisteredService> desired = new LinkedHashMap<>();
        Set<String> uninspected = new TreeSet<>();
        Set<String> runningSet = new HashSet<>(running);
        for (String id : running) {
            try {
                Optional<Container> c = runtime.inspect(id);
                if (c.isPresent() && c.get().running()) {
                    retained.remove(id);
                    addAll(desired, map(c.get()));
                }
            } catch (Exception e) {
                uninspected.add(id);
                failed("inspecting " + shortId(id), e);
                keepKnown(desired, id);
            }
        }
        for (String id : new ArrayList<>(retained.keySet())) {
            if (runningSet.contains(id)) {
                continue;
            }
            try {
                Optional<Container> c = runtime.inspect(id);
                if (c.isEmpty()) {
                    retained.remove(id);
                } else if (c.get().running()) {
                    retained.remove(id);
                    addAll(desired, map(c.get()));
                } else {
                    keepKnown(desired, id);
                }
            } catch (Exception e) {
                uninspected.add(id);
                failed("inspecting " + shortId(id), e);
                keepKnown(desired, id);
            }
        }
        Set<String> present;
        try {
            present = new HashSet<>(sink.registeredIds());
        } catch (RuntimeException e) {
            failed("reading registered services", e);
            return;
        }
        int removed = 0;
        Set<String> written = new HashSet<>();
        for (RegisteredService s : desired.values()) {
            RegisteredService k = known.get(s.id());
            if (present.contains(s.id()) && s.sameDefinition(k) || s.sameDefinition(refused.get(s.id()))) {
                continue;
            }
            written.add(s.id()); // its health was pushed with it
            if (!register(s)) {
                ok = false;
            }
        }
        if (uninspected.isEmpty()) {
            for (String id : present) {
                if (!desired.containsKey(id)) {
                    if (deregister(id)) {
                        removed++;
                    } else {
                        ok = false;
                    }
                }
            }
            for (String id : new ArrayList<>(known.keySet())) {
                if (!desired.containsKey(id) && !present.contains(id)) {
                    forget(id);
                }
            }
        } else {
            ok = false;
            log.warn("registrator: {} container(s) could not be inspected; removals wait for the next resync",
                    uninspected.size());
        }
        for (RegisteredService s : desired.values()) {
            if (s.health() != null && known.containsKey(s.id()) && !written.contains(s.id())) {
                String output = retained.get(s.containerId());
                RegisteredService.DockerHealth h = output == null ? s.health()
                        : new RegisteredService.DockerHealth(s.health().checkId(), "critical", output);
                ok &= push(h, true);
            }
        }
        serviceCount.set(known.size());
        if (ok) {
            backoff = cfg.retryMin();
        } else {
            scheduleRetry();
        }
        if (!written.isEmpty() || removed > 0 || !"timer".equals(reason)) {
            log.info("registrator: resync ({}): {} running container(s), {} service(s); {} registered, {} removed",
                    reason, running.size(), desired.size(), written.size(), removed);
        }
    }

    private void addAll(Map<String, RegisteredService> desired, List<RegisteredService> services) {
        for (RegisteredService s : services) {
            RegisteredService other = desired.putIfAbsent(s.id(), s);
            if (other != null && !other.containerId().equals(s.containerId())) {
                log.warn("registrator: service ID {} of container {} is taken by container {}; skipped", s.id(),
                        shortId(s.containerId()), shortId(other.containerId()));
            }
        }
    }

    /** Keeps what is registered for a container we cannot look at now (or that failed and is retained). */
    private void keepKnown(Map<String, RegisteredService> desired, String containerId) {
        for (String sid : byContainer.getOrDefault(containerId, Set.of())) {
            RegisteredService s = known.get(sid);
            if (s != null) {
                desired.putIfAbsent(sid, s);
            }
        }
    }

    // ---- events ----

    private void handle(ContainerEvent ev) {
        String action = ev.action();
        if (action.startsWith("exec_")) {
            return; // HEALTHCHECK probes and docker exec: nothing changes
        }
        int colon = action.indexOf(':');
        String base = colon < 0 ? action : action.substring(0, colon).trim();
        switch (base) {
            case "start", "unpause", "restart", "rename", "health_status" -> refresh(ev);
            case "kill" -> {
                if (cfg.deregister() == RegistratorConfig.Deregister.ON_SUCCESS) {
                    killed.add(ev.containerId());
                }
                logEvent(ev, "noted (its die follows)");
            }
            case "die" -> die(ev);
            case "stop", "pause" -> removeContainer(ev);
            case "destroy" -> {
                retained.remove(ev.containerId());
                killed.remove(ev.containerId());
                removeContainer(ev);
            }
            default -> {
                // create, attach, oom, resize, ...: nothing to register
            }
        }
        serviceCount.set(known.size());
    }

    private void refresh(ContainerEvent ev) {
        String id = ev.containerId();
        Optional<Container> c;
        try {
            c = runtime.inspect(id);
        } catch (Exception e) {
            failed("inspecting " + shortId(id), e);
            return;
        }
        if (c.isEmpty()) {
            removeContainer(ev);
            return;
        }
        if (!c.get().running()) {
            logEvent(ev, "not running any more");
            return;
        }
        retained.remove(id);
        killed.remove(id);
        List<RegisteredService> now = map(c.get());
        Set<String> old = new HashSet<>(byContainer.getOrDefault(id, Set.of()));
        List<String> registered = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        int failures = 0;
        for (RegisteredService s : now) {
            old.remove(s.id());
            RegisteredService k = known.get(s.id());
            if (s.sameDefinition(k)) {
                if (s.health() != null && !push(s.health(), false)) {
                    failures++;
                }
            } else if (register(s)) {
                registered.add(s.id());
            } else {
                failures++;
            }
        }
        for (String sid : old) {
            if (deregister(sid)) {
                removed.add(sid);
            } else {
                failures++;
            }
        }
        String outcome = describe(registered, removed, now.size());
        logEvent(ev, failures == 0 ? outcome : outcome + "; " + failures + " write(s) failed, resync follows");
    }

    private void die(ContainerEvent ev) {
        String id = ev.containerId();
        if (cfg.deregister() == RegistratorConfig.Deregister.ALWAYS) {
            removeContainer(ev);
            return;
        }
        boolean stoppedByUser = killed.remove(id);
        OptionalInt code = exitCodes.apply(ev);
        if (stoppedByUser || code.isEmpty() || code.getAsInt() == 0) {
            removeContainer(ev);
            return;
        }
        if (!byContainer.containsKey(id)) {
            logEvent(ev, "exit code " + code.getAsInt() + ": no services");
            return;
        }
        String output = "container exited with code " + code.getAsInt();
        retained.put(id, output);
        for (String sid : byContainer.getOrDefault(id, Set.of())) {
            RegisteredService s = known.get(sid);
            if (s != null && s.health() != null) {
                push(new RegisteredService.DockerHealth(s.health().checkId(), "critical", output), false);
            }
        }
        logEvent(ev, "exit code " + code.getAsInt() + ": services kept (-deregister on-success)");
    }

    private void removeContainer(ContainerEvent ev) {
        List<String> removed = new ArrayList<>();
        int failures = 0;
        for (String sid : new ArrayList<>(byContainer.getOrDefault(ev.containerId(), Set.of()))) {
            if (deregister(sid)) {
                removed.add(sid);
            } else {
                failures++;
            }
        }
        String outcome = describe(List.of(), removed, 0);
        logEvent(ev, failures == 0 ? outcome : outcome + "; " + failures + " write(s) failed, resync follows");
    }

    // ---- writes ----

    private List<RegisteredService> map(Container c) {
        Container sharedWith = null;
        String mode = c.networkMode();
        if (mode.startsWith("container:")) {
            try {
                sharedWith = runtime.inspect(mode.substring("container:".length())).orElse(null);
            } catch (Exception e) {
                log.debug("registrator: inspecting the network container of {}", shortId(c.id()), e);
            }
        }
        return ServiceMapper.map(c, sharedWith, cfg);
    }

    /** @return true when written */
    private boolean register(RegisteredService s) {
        RegisteredService bad = refused.get(s.id());
        if (bad != null && bad.sameDefinition(s)) {
            return true; // refused before; logged then, not retried until it changes
        }
        try {
            sink.register(s);
        } catch (IllegalArgumentException e) {
            errors.increment();
            refused.put(s.id(), s);
            log.warn("registrator: service {} of container {} refused: {}", s.id(), shortId(s.containerId()),
                    e.getMessage());
            return true;
        } catch (RuntimeException e) {
            failed("registering " + s.id(), e);
            return false;
        }
        refused.remove(s.id());
        RegisteredService old = known.put(s.id(), s);
        if (old != null && !old.containerId().equals(s.containerId())) {
            unindex(old.containerId(), s.id());
        }
        byContainer.computeIfAbsent(s.containerId(), k -> new HashSet<>()).add(s.id());
        if (s.health() != null) {
            pushed.remove(s.health().checkId());
            String output = retained.get(s.containerId());
            return push(output == null ? s.health()
                    : new RegisteredService.DockerHealth(s.health().checkId(), "critical", output), true);
        }
        return true;
    }

    /** @return true when removed */
    private boolean deregister(String serviceId) {
        try {
            sink.deregister(serviceId);
        } catch (RuntimeException e) {
            failed("deregistering " + serviceId, e);
            return false;
        }
        forget(serviceId);
        return true;
    }

    private void forget(String serviceId) {
        RegisteredService old = known.remove(serviceId);
        refused.remove(serviceId);
        if (old != null) {
            unindex(old.containerId(), serviceId);
            if (old.health() != null) {
                pushed.remove(old.health().checkId());
            }
        }
    }

    private void unindex(String containerId, String serviceId) {
        Set<String> ids = byContainer.get(containerId);
        if (ids != null) {
            ids.remove(serviceId);
            if (ids.isEmpty()) {
                byContainer.remove(containerId);
            }
        }
    }

    /** Pushes a Docker health status when it changed (or always, with {@code force}). @return false on failure */
    private boolean push(RegisteredService.DockerHealth h, boolean force) {
        if (!force && h.equals(pushed.get(h.checkId()))) {
            return true;
        }
        try {
            sink.updateHealth(h.checkId(), h.status(), h.output());
        } catch (RuntimeException e) {
            pushed.remove(h.checkId());
            failed("updating " + h.checkId(), e);
            return false;
        }
        pushed.put(h.checkId(), h);
        return true;
    }

    private void failed(String what, Exception e) {
        errors.increment();
        log.warn("registrator: {} failed: {}", what, e.toString());
        scheduleRetry();
    }

    /** One full resync after the current backoff, unless one is already pending. */
    private void scheduleRetry() {
        if (retryPending || closed) {
            return;
        }
        retryPending = true;
        Duration delay = backoff;
        Duration next = backoff.multipliedBy(2);
        backoff = next.compareTo(cfg.retryMax()) > 0 ? cfg.retryMax() : next;
        submitLater(delay, "retry", () -> {
            retryPending = false;
            if (connected) {
                resync("retry");
            }
        });
    }

    private void logEvent(ContainerEvent ev, String outcome) {
        log.info("registrator: {} {} ({}): {}", ev.action(), ev.name(), shortId(ev.containerId()), outcome);
    }

    private static String describe(List<String> registered, List<String> removed, int services) {
        if (registered.isEmpty() && removed.isEmpty()) {
            return services == 0 ? "no services" : "unchanged (" + services + " service(s))";
        }
        StringBuilder sb = new StringBuilder();
        if (!registered.isEmpty()) {
            sb.append("registered ").append(String.join(", ", registered));
        }
        if (!removed.isEmpty()) {
            sb.append(sb.length() > 0 ? "; " : "").append("removed ").append(String.join(", ", removed));
        }
        return sb.toString();
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
