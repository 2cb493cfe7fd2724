package dev.weft.agent.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.agent.checks.CheckDefinition;
import dev.weft.agent.checks.HealthChecks;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Catalogs;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.Result;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What this agent owns in the catalog — its node, the services registered with it and their checks — and the
 * anti-entropy loop that keeps the replicated catalog equal to it (Consul's agent/local state).
 *
 * <p><b>Sync.</b> Every entry carries an in-sync flag. A change (register, deregister, a check changing status)
 * clears it and wakes the sync thread, which writes only out-of-sync entries through Raft. A full sync — at start,
 * every {@code antiEntropyInterval}, and after any failed write — reads this node's entries from the local
 * replicated view, marks every difference out of sync and deregisters catalog entries of this node that the
 * agent no longer has. Failed writes are retried with capped exponential backoff.
 *
 * <p><b>Check output.</b> A status change is written at once. A change of output alone is written at most once
 * per {@code checkUpdateInterval} per check (Consul's check_update_interval), so a check that runs every second
 * costs no Raft write per run.
 *
 * <p><b>Liveness.</b> A heartbeat ({@link Command.NodeHeartbeat}) is proposed every {@code heartbeatInterval};
 * the leader's {@link NodeHealthDuty} turns the node critical when they stop.
 *
 * <p><b>Persistence.</b> Registrations are kept as received in {@code <data-dir>/agent-local.json} (atomic
 * replace) and replayed at start, so services survive a restart.
 */
public final class LocalAgentState implements HealthChecks.Listener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalAgentState.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final String NODE_HEALTH_NAME = "Serf Health Status";
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** Settings; see the agent flags of the same names. */
    public record Settings(Duration checkUpdateInterval, Duration antiEntropyInterval, Duration heartbeatInterval,
                           Duration writeTimeout) {
    }

    /** Set at construction; {@link #publishNodeMeta} may add meta before {@link #start()}. */
    private volatile CatalogNode self;
    private final ReplicatedStore store;
    private final Settings settings;
    private final Path persistFile;
    private final HealthChecks runners;
    private final ScheduledExecutorService exec;
    /**
     * Every write this agent state has proposed and not yet seen answered (added under this, before close);
     * close with leave waits for them before marking the node left, so none lands after the mark.
     */
    private final Set<CompletableFuture<Applied>> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Counter writes;
    private final Counter syncFailures;

    // Guarded by this.
    private final TreeMap<String, ServiceEntry> services = new TreeMap<>();
    private final TreeMap<String, CheckEntry> checks = new TreeMap<>();
    private final Set<String> removedServices = new HashSet<>();
    private final Set<String> removedChecks = new HashSet<>();
    private boolean nodeInSync;
    private boolean fullSyncDue = true;
    private long nextOutputDue = Long.MAX_VALUE;
    private ScheduledFuture<?> pendingRound;
    private long pendingRoundAt = Long.MAX_VALUE;
    private int failures;
    private boolean closed;

    private static final class ServiceEntry {
        final ServiceRegistration reg;
        boolean inSync;
        long version;

        ServiceEntry(ServiceRegistration reg) {
            this.reg = reg;
        }
    }

    private static final class CheckEntry {
        final CheckDefinition def;
        final JsonNode source; // null when the check belongs to a service registration
        HealthStatus status;
        String output = "";
        boolean inSync;
        boolean outputDirty;
        long version;
        long lastWriteNanos;
        long criticalSinceNanos;

        CheckEntry(CheckDefinition def, JsonNode source) {
            this.def = def;
            this.source = source;
            this.status = def.status();
            if (status == HealthStatus.CRITICAL) {
                criticalSinceNanos = System.nanoTime();
            }
        }
    }

    public LocalAgentState(CatalogNode self, ReplicatedStore store, Settings settings, Path dataDir,
                           MeterRegistry registry) {
        this.self = self;
        this.store = store;
        this.settings = settings;
        this.persistFile = dataDir == null ? null : dataDir.resolve("agent-local.json");
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weft-anti-entropy");
            t.setDaemon(true);
            return t;
        });
        this.runners = new HealthChecks(this, registry);
        this.writes = Counter.builder("weft.agent.sync.writes").description("Catalog writes by anti-entropy")
                .register(registry);
        this.syncFailures = Counter.builder("weft.agent.sync.failures")
                .description("Anti-entropy rounds that failed (retried with backoff)").register(registry);
    }

    /**
     * Adds meta to this agent's catalog node (for example where a server's HTTP API listens, known only once it
     * is bound). Call before {@link #start()}.
     */
    public void publishNodeMeta(java.util.Map<String, String> meta) {
        java.util.Map<String, String> all = new java.util.TreeMap<>(self.meta());
        all.putAll(meta);
        self = new CatalogNode(self.node(), self.id(), self.address(), self.taggedAddresses(), all, self.createIndex(),
                self.modifyIndex());
    }

    /** Loads persisted registrations, starts their checks, the heartbeat, the periodic full sync and the reaper. */
    public void start() {
        load();
        long hb = settings.heartbeatInterval().toMillis();
        exec.scheduleWithFixedDelay(this::heartbeat, 0, hb, TimeUnit.MILLISECONDS);
        long ae = settings.antiEntropyInterval().toMillis();
        exec.scheduleWithFixedDelay(() -> {
            synchronized (this) {
                fullSyncDue = true;
            }
            round();
        }, ae, ae, TimeUnit.MILLISECONDS);
        exec.scheduleWithFixedDelay(this::reapCritical, 1, 1, TimeUnit.SECONDS);
        trigger(0);
    }

    public String nodeName() {
        return self.node();
    }

    public CatalogNode node() {
        return self;
    }

    // ---- registration (HTTP API) -------------------------------------------------------------------------

    /**
     * Registers (or replaces) a service and its checks. With {@code replaceExistingChecks}, checks of the
     * service not in the new definition are removed; otherwise they stay, as in Consul.
     */
    public void addService(ServiceRegistration reg, boolean replaceExistingChecks) {
        synchronized (this) {
            String id = reg.service().id();
            if (unchanged(reg)) {
                return; // re-asserting the same registration (registrator resyncs) writes nothing
            }
            ServiceEntry e = new ServiceEntry(reg);
            ServiceEntry old = services.put(id, e);
            e.version = old == null ? 1 : old.version + 1;
            removedServices.remove(id);
            Set<String> keep = new HashSet<>();
            for (CheckDefinition d : reg.checks()) {
                keep.add(d.checkId());
            }
            if (replaceExistingChecks) {
                for (CheckEntry c : List.copyOf(checks.values())) {
                    if (c.def.serviceId().equals(id) && !keep.contains(c.def.checkId())) {
                        removeCheckLocked(c.def.checkId());
                    }
                }
            }
            for (CheckDefinition d : reg.checks()) {
                putCheckLocked(d, null);
            }
            persistLocked();
        }
        log.info("agent: registered service {} ({})", reg.service().id(), reg.service().service());
        trigger(0);
    }

    private boolean unchanged(ServiceRegistration reg) {
        ServiceEntry old = services.get(reg.service().id());
        if (old == null || !old.reg.service().sameContent(reg.service())) {
            return false;
        }
        List<CheckDefinition> have = new ArrayList<>();
        for (CheckEntry c : checks.values()) {
            if (c.def.serviceId().equals(reg.service().id())) {
                have.add(c.def);
            }
        }
        return have.size() == reg.checks().size() && have.containsAll(reg.checks());
    }

    /** @return false when no such service is registered with this agent */
    public boolean removeService(String id) {
        synchronized (this) {
            if (services.remove(id) == null) {
                return false;
            }
            removedServices.add(id);
            for (CheckEntry c : List.copyOf(checks.values())) {
                if (c.def.serviceId().equals(id)) {
                    removeCheckLocked(c.def.checkId());
                    removedChecks.remove(c.def.checkId()); // removed with the service
                }
            }
            persistLocked();
        }
        log.info("agent: deregistered service {}", id);
        trigger(0);
        return true;
    }

    /**
     * Registers a check ({@code PUT /v1/agent/check/register}).
     *
     * @throws IllegalArgumentException when it names a service this agent does not have
     */
    public void addCheck(CheckDefinition def, JsonNode source) {
        synchronized (this) {
            if (!def.serviceId().isEmpty() && !services.containsKey(def.serviceId())) {
                throw new IllegalArgumentException("ServiceID \"" + def.serviceId()
                        + "\" does not exist");
            }
            if (def.checkId().equals(CatalogView.NODE_HEALTH_CHECK)) {
                throw new IllegalArgumentException("Check ID " + CatalogView.NODE_HEALTH_CHECK + " is reserved");
            }
            putCheckLocked(def, source);
            persistLocked();
        }
        log.info("agent: registered check {}", def.checkId());
        trigger(0);
    }

    /** @return false when no such check is registered with this agent */
    public boolean removeCheck(String id) {
        synchronized (this) {
            if (!checks.containsKey(id)) {
                return false;
            }
            removeCheckLocked(id);
            persistLocked();
        }
        log.info("agent: deregistered check {}", id);
        trigger(0);
        return true;
    }

    /**
     * TTL check update ({@code /v1/agent/check/pass|warn|fail|update}).
     *
     * @return null on success, else the reason (unknown check, not a TTL check)
     */
    public String ttlUpdate(String id, HealthStatus status, String output) {
        synchronized (this) {
            CheckEntry c = checks.get(id);
            if (c == null) {
                return "Unknown check ID \"" + id + "\". Ensure that the check ID is passed, not the check name.";
            }
        }
        if (!runners.ttlUpdate(id, status, output)) {
            return "CheckID \"" + id + "\" does not have associated TTL";
        }
        return null;
    }

    private void putCheckLocked(CheckDefinition def, JsonNode source) {
        CheckEntry old = checks.get(def.checkId());
        CheckEntry e = new CheckEntry(def, source);
        if (old != null) {
            e.version = old.version + 1;
            e.lastWriteNanos = old.lastWriteNanos;
        }
        checks.put(def.checkId(), e);
        removedChecks.remove(def.checkId());
        runners.add(def);
    }

    private void removeCheckLocked(String id) {
        checks.remove(id);
        runners.remove(id);
        removedChecks.add(id);
    }

    // ---- reads (HTTP API) --------------------------------------------------------------------------------

    public synchronized List<CatalogService> services() {
        List<CatalogService> out = new ArrayList<>(services.size());
        for (ServiceEntry e : services.values()) {
            out.add(e.reg.service());
        }
        return out;
    }

    public synchronized CatalogService service(String id) {
        ServiceEntry e = services.get(id);
        return e == null ? null : e.reg.service();
    }

    /** The agent's checks with their current status and output, as Consul's /v1/agent/checks. */
    public synchronized List<CatalogCheck> checks() {
        List<CatalogCheck> out = new ArrayList<>(checks.size());
        for (CheckEntry c : checks.values()) {
            out.add(toCatalog(c));
        }
        return out;
    }

    private CatalogCheck toCatalog(CheckEntry c) {
        CheckDefinition d = c.def;
        String serviceName = "";
        List<String> tags = List.of();
        if (!d.serviceId().isEmpty()) {
            ServiceEntry s = services.get(d.serviceId());
            if (s != null) {
                serviceName = s.reg.service().service();
                tags = s.reg.service().tags();
            }
        }
        return new CatalogCheck(self.node(), d.checkId(), d.name(), c.status, d.notes(),
                Catalogs.truncate(c.output, Catalogs.MAX_OUTPUT_BYTES), d.serviceId(), serviceName, tags, d.type(),
                d.intervalText(), d.timeoutText(), d.deregisterCriticalServiceAfter().toMillis(), 0, 0);
    }

    // ---- check results -----------------------------------------------------------------------------------

    @Override
    public void update(String checkId, HealthStatus status, String output) {
        boolean now = false;
        long deferTo = 0;
        synchronized (this) {
            CheckEntry c = checks.get(checkId);
            if (c == null || closed) {
                return;
            }
            String out = Catalogs.truncate(output, Catalogs.MAX_OUTPUT_BYTES);
            if (status == HealthStatus.CRITICAL) {
                if (c.criticalSinceNanos == 0) {
                    c.criticalSinceNanos = System.nanoTime();
                }
            } else {
                c.criticalSinceNanos = 0;
            }
            if (c.status != status) {
                log.info("agent: check {} is now {}", checkId, status.wire());
                c.status = status;
                c.output = out;
                c.outputDirty = false;
                c.inSync = false;
                c.version++;
                now = true;
            } else if (!c.output.equals(out)) {
                c.output = out;
                long due = c.lastWriteNanos + settings.checkUpdateInterval().toNanos();
                long t = System.nanoTime();
                if (c.lastWriteNanos == 0 || due - t <= 0) {
                    c.inSync = false;
                    c.version++;
                    now = true;
                } else {
                    c.outputDirty = true;
                    deferTo = due;
                }
            }
        }
        if (now) {
            trigger(0);
        } else if (deferTo != 0) {
            triggerAt(deferTo);
        }
    }

    /** Removes services whose check has been critical longer than its DeregisterCriticalServiceAfter. */
    private void reapCritical() {
        List<String> reap = new ArrayList<>();
        synchronized (this) {
            long t = System.nanoTime();
            for (CheckEntry c : checks.values()) {
                long after = c.def.deregisterCriticalServiceAfter().toNanos();
                if (after > 0 && c.criticalSinceNanos != 0 && t - c.criticalSinceNanos >= after
                        && !c.def.serviceId().isEmpty()) {
                    reap.add(c.def.serviceId());
                }
            }
        }
        for (String id : reap) {
            if (removeService(id)) {
                log.info("agent: removed service {}: critical longer than its DeregisterCriticalServiceAfter", id);
            }
        }
    }

    // ---- anti-entropy --------------------------------------------------------------------------------------

    /** Forces a full comparison with the catalog on the next round, and runs it now. */
    public void syncFull() {
        synchronized (this) {
            fullSyncDue = true;
        }
        trigger(0);
    }

    /** Anti-entropy writes submitted at once; a round with more sends them in windows of this many. */
    static final int WRITES_IN_FLIGHT = 16;

    private void trigger(long delayMillis) {
        triggerAt(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis));
    }

    private synchronized void triggerAt(long atNanos) {
        if (closed) {
            return;
        }
        if (pendingRound != null && !pendingRound.isDone() && pendingRoundAt - atNanos <= 0) {
            return; // an earlier round is already scheduled
        }
        if (pendingRound != null) {
            pendingRound.cancel(false);
        }
        long delay = Math.max(0, atNanos - System.nanoTime());
        pendingRoundAt = atNanos;
        pendingRound = exec.schedule(this::round, delay, TimeUnit.NANOSECONDS);
    }

    private record Write(Command command, Runnable onSuccess) {
    }

    /** One sync round, on the anti-entropy thread. */
    private void round() {
        List<Write> batch;
        try {
            boolean full;
            synchronized (this) {
                if (closed) {
                    return;
                }
                pendingRoundAt = Long.MAX_VALUE;
                full = fullSyncDue;
                fullSyncDue = false;
            }
            if (full) {
                compareWithCatalog();
            }
            boolean hasHealth = store.read(v -> v.catalog().check(self.node(), CatalogView.NODE_HEALTH_CHECK))
                    != null;
            batch = collectWrites(hasHealth);
        } catch (RuntimeException e) {
            log.warn("agent: anti-entropy round failed: {}", e.toString());
            failed();
            return;
        }
        if (batch.isEmpty()) {
            synchronized (this) {
                failures = 0;
            }
            return;
        }
        // At most WRITES_IN_FLIGHT at a time: a client agent sends them to the servers over a bounded number of
        // connections (ServerConnections), and a burst of registrations must not crowd out its feed and API calls.
        List<CompletableFuture<Applied>> futures = new ArrayList<>(batch.size());
        boolean ok = true;
        String error = null;
        for (int i = 0; i < batch.size(); i++) {
            if (i % WRITES_IN_FLIGHT == 0) {
                for (int j = i; j < Math.min(batch.size(), i + WRITES_IN_FLIGHT); j++) {
                    futures.add(submit(batch.get(j).command()));
                }
            }
            try {
                Applied a = futures.get(i).get(settings.writeTimeout().toMillis(), TimeUnit.MILLISECONDS);
                writes.increment();
                if (a.result() instanceof Result.Invalid inv) {
                    log.warn("agent: catalog refused {}: {}", batch.get(i).command().getClass().getSimpleName(),
                            inv.message());
                    ok = false;
                    continue;
                }
                batch.get(i).onSuccess().run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (TimeoutException | java.util.concurrent.ExecutionException | RuntimeException e) {
                ok = false;
                error = rootMessage(e);
            }
        }
        if (ok) {
            synchronized (this) {
                if (failures > 0) {
                    log.info("agent: anti-entropy back in sync after {} failed rounds", failures);
                }
                failures = 0;
            }
            // Entries may have changed while we were writing; run again if anything is still out of sync.
            if (anyOutOfSync()) {
                trigger(0);
            }
        } else {
            synchronized (this) {
                if (closed) {
                    return; // writes refused because the agent is closing: nothing to retry
                }
            }
            if (error != null) {
                log.warn("agent: anti-entropy write failed, will retry: {}", error);
            }
            failed();
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.toString();
    }

    private void failed() {
        long delay;
        synchronized (this) {
            failures++;
            fullSyncDue = true;
            delay = Math.min(MAX_BACKOFF.toMillis(), 500L << Math.min(failures - 1, 10));
        }
        syncFailures.increment();
        trigger(delay);
    }

    private synchronized boolean anyOutOfSync() {
        if (!nodeInSync || !removedServices.isEmpty() || !removedChecks.isEmpty()) {
            return true;
        }
        for (ServiceEntry s : services.values()) {
            if (!s.inSync) {
                return true;
            }
        }
        for (CheckEntry c : checks.values()) {
            if (!c.inSync) {
                return true;
            }
        }
        return false;
    }

    /** Full sync: marks every difference between this agent and the catalog's record of its node. */
    private void compareWithCatalog() {
        String me = self.node();
        record Seen(CatalogNode node, List<CatalogService> services, List<CatalogCheck> checks) {
        }
        Seen seen = store.read(v -> new Seen(v.catalog().node(me), v.catalog().servicesOfNode(me),
                v.catalog().checksOfNode(me)));
        synchronized (this) {
            nodeInSync = self.sameContent(seen.node());
            Map<String, CatalogService> catSvcs = new TreeMap<>();
            for (CatalogService s : seen.services()) {
                catSvcs.put(s.id(), s);
                if (!services.containsKey(s.id())) {
                    removedServices.add(s.id());
                }
            }
            for (ServiceEntry e : services.values()) {
                if (!e.reg.service().sameContent(catSvcs.get(e.reg.service().id()))) {
                    e.inSync = false;
                }
            }
            Map<String, CatalogCheck> catChecks = new TreeMap<>();
            for (CatalogCheck c : seen.checks()) {
                catChecks.put(c.checkId(), c);
                if (c.checkId().equals(CatalogView.NODE_HEALTH_CHECK)) {
                    continue;
                }
                if (!checks.containsKey(c.checkId())) {
                    removedChecks.add(c.checkId());
                }
            }
            if (!catChecks.containsKey(CatalogView.NODE_HEALTH_CHECK)) {
                nodeInSync = false;
            }
            long t = System.nanoTime();
            for (CheckEntry e : checks.values()) {
                CatalogCheck want = toCatalog(e);
                CatalogCheck have = catChecks.get(want.checkId());
                if (have == null || !want.withStatus(want.status(), "").sameContent(
                        have.withStatus(have.status(), "").withIndexes(0, 0))) {
                    e.inSync = false;
                } else if (!have.output().equals(want.output())) {
                    long due = e.lastWriteNanos + settings.checkUpdateInterval().toNanos();
                    if (e.lastWriteNanos == 0 || due - t <= 0) {
                        e.inSync = false;
                    } else {
                        e.outputDirty = true;
                    }
                }
            }
        }
    }

    /** The writes that bring the catalog in line, each with what to mark in sync when it succeeds. */
    private synchronized List<Write> collectWrites(boolean hasHealth) {
        List<Write> out = new ArrayList<>();
        long t = System.nanoTime();
        long nextDue = Long.MAX_VALUE;
        for (CheckEntry c : checks.values()) {
            if (c.outputDirty) {
                long due = c.lastWriteNanos + settings.checkUpdateInterval().toNanos();
                if (due - t <= 0) {
                    c.outputDirty = false;
                    c.inSync = false;
                    c.version++;
                } else if (due < nextDue) {
                    nextDue = due;
                }
            }
        }
        if (nextDue != Long.MAX_VALUE) {
            triggerAt(nextDue);
        }
        if (!nodeInSync) {
            CatalogCheck health = nodeHealth(HealthStatus.PASSING, "Agent alive and reachable");
            out.add(new Write(new Command.CatalogRegister(self, null, hasHealth ? List.of() : List.of(health),
                    false), () -> {
                synchronized (this) {
                    nodeInSync = true;
                }
            }));
        }
        for (String id : removedServices) {
            out.add(new Write(new Command.CatalogDeregister(self.node(), id, null), () -> {
                synchronized (this) {
                    if (!services.containsKey(id)) {
                        removedServices.remove(id);
                    }
                }
            }));
        }
        for (String id : removedChecks) {
            out.add(new Write(new Command.CatalogDeregister(self.node(), null, id), () -> {
                synchronized (this) {
                    if (!checks.containsKey(id)) {
                        removedChecks.remove(id);
                    }
                }
            }));
        }
        Set<String> covered = new HashSet<>();
        for (ServiceEntry s : services.values()) {
            if (s.inSync) {
                continue;
            }
            List<CatalogCheck> svcChecks = new ArrayList<>();
            List<CheckEntry> entries = new ArrayList<>();
            for (CheckEntry c : checks.values()) {
                if (c.def.serviceId().equals(s.reg.service().id())) {
                    svcChecks.add(toCatalog(c));
                    entries.add(c);
                    covered.add(c.def.checkId());
                }
            }
            long version = s.version;
            long[] checkVersions = entries.stream().mapToLong(c -> c.version).toArray();
            out.add(new Write(new Command.CatalogRegister(self, s.reg.service(), svcChecks, true), () -> {
                long now = System.nanoTime();
                synchronized (this) {
                    if (services.get(s.reg.service().id()) == s && s.version == version) {
                        s.inSync = true;
                    }
                    for (int i = 0; i < entries.size(); i++) {
                        CheckEntry c = entries.get(i);
                        c.lastWriteNanos = now;
                        if (checks.get(c.def.checkId()) == c && c.version == checkVersions[i]) {
                            c.inSync = true;
                        }
                    }
                }
            }));
        }
        for (CheckEntry c : checks.values()) {
            if (c.inSync || covered.contains(c.def.checkId())) {
                continue;
            }
            if (!c.def.serviceId().isEmpty()) {
                ServiceEntry s = services.get(c.def.serviceId());
                if (s == null) {
                    continue;
                }
            }
            long version = c.version;
            out.add(new Write(new Command.CatalogRegister(self, null, List.of(toCatalog(c)), true), () -> {
                long now = System.nanoTime();
                synchronized (this) {
                    c.lastWriteNanos = now;
                    if (checks.get(c.def.checkId()) == c && c.version == version) {
                        c.inSync = true;
                    }
                }
            }));
        }
        return out;
    }

    /** This node's serfHealth check with the given status and output. */
    private CatalogCheck nodeHealth(HealthStatus status, String output) {
        return new CatalogCheck(self.node(), CatalogView.NODE_HEALTH_CHECK, NODE_HEALTH_NAME, status, "", output, "",
                "", List.of(), "", "", "", 0, 0, 0);
    }

    /**
     * Proposes a write and tracks it until answered. Once closed, proposes nothing: the write fails at once, so a
     * round still running when the agent leaves cannot land after the "left" mark.
     */
    private synchronized CompletableFuture<Applied> submit(Command command) {
        if (closed) {
            return CompletableFuture.failedFuture(new java.util.concurrent.CancellationException(
                    "agent state closed"));
        }
        CompletableFuture<Applied> f = store.submit(command);
        inFlight.add(f);
        f.whenComplete((a, e) -> inFlight.remove(f));
        return f;
    }

    private void heartbeat() {
        // submit refuses once closed, under the lock that close takes: no heartbeat lands after the "left" mark
        CompletableFuture<Applied> sent = submit(new Command.NodeHeartbeat(self.node()));
        try {
            Applied a = sent.get(settings.writeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (a.result() instanceof Result.Bool b && !b.value()) {
                // Our node is not in the catalog (removed by an operator, or a restored snapshot): re-register.
                log.info("agent: node {} missing from the catalog; re-registering", self.node());
                syncFull();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("agent: heartbeat failed: {}", e.toString());
            synchronized (this) {
                fullSyncDue = true; // after an outage, re-assert everything
            }
        }
    }

    // ---- persistence ---------------------------------------------------------------------------------------

    private void persistLocked() {
        if (persistFile == null) {
            return;
        }
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode svcs = root.putArray("services");
        for (ServiceEntry e : services.values()) {
            svcs.add(e.reg.source());
        }
        ArrayNode chks = root.putArray("checks");
        for (CheckEntry c : checks.values()) {
            if (c.source != null) {
                chks.add(c.source);
            }
        }
        try {
            if (!Files.isDirectory(persistFile.getParent())) {
                // createDirectories on an existing directory throws and catches an exception inside: skip it.
                Files.createDirectories(persistFile.getParent());
            }
            Path tmp = persistFile.resolveSibling(persistFile.getFileName() + ".tmp");
            Files.write(tmp, MAPPER.writeValueAsBytes(root));
            try {
                Files.move(tmp, persistFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, persistFile, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            log.warn("agent: could not persist local registrations to {}: {}", persistFile, e.toString());
        }
    }

    private void load() {
        if (persistFile == null || !Files.exists(persistFile)) {
            return;
        }
        int n = 0;
        try {
            JsonNode root = MAPPER.readTree(persistFile.toFile());
            synchronized (this) {
                for (JsonNode s : root.path("services")) {
                    ServiceRegistration reg = ServiceRegistration.parse(s, self.node());
                    services.put(reg.service().id(), new ServiceEntry(reg));
                    for (CheckDefinition d : reg.checks()) {
                        putCheckLocked(d, null);
                    }
                    n++;
                }
                for (JsonNode c : root.path("checks")) {
                    CheckDefinition d = CheckDefinition.parseAgentCheck(c);
                    if (d.serviceId().isEmpty() || services.containsKey(d.serviceId())) {
                        putCheckLocked(d, c);
                    }
                }
            }
            log.info("agent: restored {} services and {} checks from {}", n, checks.size(), persistFile);
        } catch (IOException | RuntimeException e) {
            log.warn("agent: could not read {} ({}); starting without local registrations", persistFile,
                    e.toString());
        }
    }

    /**
     * Stops checks and the sync loop. With {@code leave}, first marks this node critical ("Agent left") so its
     * services leave answers at once instead of after the node-health timeout (best effort, bounded wait).
     */
    public void close(boolean leave) {
        List<CompletableFuture<Applied>> pending;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            pending = List.copyOf(inFlight);
        }
        runners.close();
        exec.shutdownNow();
        if (leave) {
            // A heartbeat turns the node's health back to passing, and a sync round may be registering the node
            // with a passing serfHealth: what is still in flight must commit before the "left" mark, not after.
            try {
                CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.debug("agent: writes in flight at leave: {}", e.toString());
            }
            // A register, not a status update: an agent that leaves before its first sync committed (the node not
            // yet in the catalog) still shows as left instead of never having been there.
            CatalogCheck left = nodeHealth(HealthStatus.CRITICAL, "Agent left the cluster");
            try {
                store.submit(new Command.CatalogRegister(self, null, List.of(left), false)).get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.info("agent: could not mark node as left: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        close(false);
    }
}
