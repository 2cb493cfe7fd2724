package dev.weft.net.control;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.Session;
import dev.weft.kvstore.state.TxnOp;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One host's subnet leases. Each lease is a key {@code _weft/net/leases/<network>/<subnet address>} created with
 * compare-and-set 0 and locked by the host's session, a Consul session with a TTL and behavior {@code delete}:
 * when the host stops renewing, the leader expires the session and the state machine deletes every key it
 * holds, so a dead host's subnets become free without a reaper. The keeper renews the session every TTL/3
 * on its own thread and, on each renewal, re-takes any lease of a network it holds that went missing.
 *
 * <p>The session ID and the subnet last held in each network are kept in {@code sessionFile}. A restarted host
 * renews that session: while it is alive the host still holds its leases and keeps its subnets; when it has
 * expired, the host creates a new session and asks for the same subnets first. {@link #leave()} destroys the
 * session (deleting all its leases at once) and the file; {@link #close()} only stops renewing, so a crash and a
 * close look the same to the cluster. Thread-safe.
 */
public final class LeaseKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseKeeper.class);

    private final Proposals store;
    private final ControlSettings settings;
    private final String host;
    private final String hostId;
    private final Inet4Address underlay;
    private final Path sessionFile;
    private final Clock clock;
    /** Network → subnet (CIDR text) held last, kept in the session file. */
    private final Map<String, String> subnets = new LinkedHashMap<>();
    private volatile String session;
    private ScheduledExecutorService renewer;
    private boolean started;
    private boolean closed;

    /**
     * @param host        the agent's node name (shown in leases and endpoints)
     * @param hostId      a stable identity of the host; the VTEP MAC is derived from it
     * @param underlay    the address peers send this host's VXLAN packets to
     * @param sessionFile where the session ID survives restarts (for example {@code <data-dir>/net-session})
     */
    public LeaseKeeper(ReplicatedStore store, ControlSettings settings, String host, String hostId,
                       Inet4Address underlay, Path sessionFile, Clock clock) {
        this.store = new Proposals(Objects.requireNonNull(store, "store"), Objects.requireNonNull(clock, "clock"));
        this.settings = Objects.requireNonNull(settings, "settings");
        this.host = requireText(host, "host");
        this.hostId = requireText(hostId, "hostId");
        this.underlay = Objects.requireNonNull(underlay, "underlay");
        this.sessionFile = Objects.requireNonNull(sessionFile, "sessionFile");
        this.clock = clock;
    }

    public LeaseKeeper(ReplicatedStore store, ControlSettings settings, String host, String hostId,
                       Inet4Address underlay, Path sessionFile) {
        this(store, settings, host, hostId, underlay, sessionFile, Clock.systemUTC());
    }

    public String host() {
        return host;
    }

    public String hostId() {
        return hostId;
    }

    /** The current session ID (null before {@link #start()} and after {@link #leave()}). */
    public String sessionId() {
        return session;
    }

    /**
     * Renews the session of the session file (or creates one), starts the renew loop, and takes (keeps, or
     * asks again for) a lease in every network of the file that still exists.
     *
     * @return this host's leases after the start
     */
    public synchronized List<HostLease> start() {
        if (closed) {
            throw new IllegalStateException("lease keeper of " + host + " is closed");
        }
        if (started) {
            throw new IllegalStateException("lease keeper of " + host + " already started");
        }
        ControlCodec.SessionFileJson saved = readFile();
        if (saved != null) {
            subnets.putAll(saved.subnets());
            if (saved.session() != null && renew(saved.session())) {
                session = saved.session();
                LOG.info("host {}: renewed session {} from {}", host, session, sessionFile);
            }
        }
        if (session == null) {
            createSession();
        }
        started = true; // only now: a start that failed (no leader) may be retried
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weft-net-lease-" + host);
            t.setDaemon(true);
            return t;
        });
        long every = settings.renewInterval().toMillis();
        renewer.scheduleWithFixedDelay(this::renewTick, every, every, TimeUnit.MILLISECONDS);
        List<HostLease> out = new ArrayList<>();
        store.barrier(); // a freshly started member's view may not show the networks yet
        for (String network : List.copyOf(subnets.keySet())) {
            if (store.read(v -> ControlView.network(v, network)).isPresent()) {
                try {
                    out.add(lease(network));
                } catch (RuntimeException e) {
                    LOG.warn("host {}: no lease in network {} yet (the renew loop retries): {}", host, network,
                            e.toString());
                }
            } else {
                subnets.remove(network);
            }
        }
        writeFile();
        return out;
    }

    /**
     * This host's lease in {@code network}: the one it holds, else a new one on the subnet it held last if
     * free, else on the first free subnet ("ensure": calling it again returns the same lease).
     *
     * @throws IllegalArgumentException when the network does not exist
     * @throws PoolExhaustedException   when every subnet of the network is leased
     */
    public synchronized HostLease lease(String network) {
        requireRunning();
        Keys.checkName(network);
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            store.barrier();
            State s = store.read(v -> new State(ControlView.network(v, network).orElse(null),
                    v.get(Keys.network(network)), v.get(Keys.REGISTRY), v.list(Keys.leases(network))));
            if (s.network == null) {
                throw new IllegalArgumentException("unknown network '" + network + "'");
            }
            Network n = s.network;
            String mine = session;
            Optional<KvEntry> own = s.leases.stream().filter(e -> mine.equals(e.session())).findFirst();
            if (own.isPresent()) {
                ControlCodec.LeaseJson value = ControlCodec.lease(own.get().value(), own.get().key());
                HostLease held = value.toLease(network);
                HostLease wanted = new HostLease(network, host, held.subnet(), underlay,
                        HostLease.vtepMac(hostId, n.id()));
                if (held.equals(wanted) && hostId.equals(value.hostId())) {
                    remember(network, held);
                    return held;
                }
                // Same subnet, new underlay (the host's address changed): rewrite the value under the same lock.
                Result.Txn t = store.txn(List.of(
                        new TxnOp(TxnOp.Verb.CHECK_SESSION, own.get().key(), null, 0, 0, mine),
                        new TxnOp(TxnOp.Verb.LOCK, own.get().key(), ControlCodec.lease(wanted, hostId), 0, 0, mine)));
                if (t.committed()) {
                    remember(network, wanted);
                    return wanted;
                }
                continue;
            }
            Ipv4Block cidr = Ipv4Block.of(n.cidr());
            Set<Integer> taken = new HashSet<>();
            for (KvEntry e : s.leases) {
                taken.add(Keys.addressOf(e.key()));
            }
            Ipv4Block subnet = cidr.firstFreeSubnet(n.subnetLength(), taken, preferred(network))
                    .orElseThrow(() -> new PoolExhaustedException("network '" + network + "' (" + n.cidr()
                            + "): all " + cidr.subnetCount(n.subnetLength()) + " subnets of /" + n.subnetLength()
                            + " are leased"));
            HostLease lease = new HostLease(network, host, subnet.toPrefix(), underlay,
                    HostLease.vtepMac(hostId, n.id()));
            String key = Keys.lease(network, subnet);
            KvEntry guard = s.mirror != null ? s.mirror : s.registry;
            Result.Txn t = store.txn(List.of(
                    new TxnOp(TxnOp.Verb.CHECK_INDEX, guard.key(), null, 0, guard.modifyIndex(), null),
                    new TxnOp(TxnOp.Verb.CHECK_NOT_EXISTS, key, null, 0, 0, null),
                    new TxnOp(TxnOp.Verb.LOCK, key, ControlCodec.lease(lease, hostId), 0, 0, mine)));
            if (t.committed()) {
                LOG.info("host {}: leased {} of network {}", host, subnet, network);
                remember(network, lease);
                removeStaleEndpoints(network, subnet);
                return lease;
            }
            if (Proposals.failedOp(t) == 2 && store.read(v -> v.session(mine)) == null) {
                LOG.warn("host {}: session {} is gone; creating a new one", host, mine);
                createSession();
            }
            Proposals.backOff(attempt);
        }
        throw new IllegalStateException("could not lease a subnet of network '" + network + "' for " + host
                + ": kept losing races (" + settings.maxAttempts() + " attempts)");
    }

    /** This host's lease in {@code network} as the local view has it (no round trip). */
    public Optional<HostLease> current(String network) {
        String mine = session;
        if (mine == null) {
            return Optional.empty();
        }
        return store.read(v -> v.list(Keys.leases(network)).stream()
                .filter(e -> mine.equals(e.session())).findFirst()
                .map(e -> ControlCodec.lease(e.value(), e.key()).toLease(network)));
    }

    /**
     * Gives up this host's lease in {@code network} (deletes it) and forgets the subnet.
     *
     * @return false when the host held none
     */
    public synchronized boolean release(String network) {
        requireRunning();
        store.barrier();
        String mine = session;
        List<KvEntry> own = store.read(v -> v.list(Keys.leases(network)).stream()
                .filter(e -> mine.equals(e.session())).toList());
        boolean released = false;
        for (KvEntry e : own) {
            released |= store.txn(List.of(
                    new TxnOp(TxnOp.Verb.CHECK_SESSION, e.key(), null, 0, 0, mine),
                    new TxnOp(TxnOp.Verb.DELETE, e.key(), null, 0, 0, null))).committed();
        }
        subnets.remove(network);
        writeFile();
        return released;
    }

    /**
     * Clean leave: destroys the session, which deletes all of this host's leases in the same command, removes
     * the session file and stops renewing. The keeper cannot be used afterwards.
     */
    public synchronized void leave() {
        requireRunning();
        stopRenewing();
        String mine = session;
        store.submit(new Command.SessionDestroy(mine, clock.millis()));
        session = null;
        closed = true;
        try {
            Files.deleteIfExists(sessionFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + sessionFile, e);
        }
        LOG.info("host {}: left; session {} destroyed with its leases", host, mine);
    }

    /** Stops renewing without touching the store: the leases stay until the session's TTL runs out. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        stopRenewing();
    }

    /** One renewal (what the renew loop runs every TTL/3); then re-takes leases that went missing. */
    synchronized void renewTick() {
        if (closed) {
            return;
        }
        try {
            if (!renew(session)) {
                LOG.warn("host {}: session {} expired; creating a new one and leasing again", host, session);
                createSession();
            }
            for (String network : List.copyOf(subnets.keySet())) {
                if (current(network).isPresent()) {
                    continue;
                }
                if (store.read(v -> ControlView.network(v, network)).isEmpty()) {
                    subnets.remove(network);
                    writeFile();
                } else {
                    lease(network);
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("host {}: renewing session {} failed (retrying in {}): {}", host, session,
                    settings.renewInterval(), e.toString());
        }
    }

    // ---- internals ---------------------------------------------------------------------------------------

    private record State(Network network, KvEntry mirror, KvEntry registry, List<KvEntry> leases) {
    }

    private boolean renew(String id) {
        Result r = store.submit(new Command.SessionRenew(id, clock.millis())).result();
        return r instanceof Result.SessionValue sv && sv.session() != null;
    }

    private void createSession() {
        String id = UUID.randomUUID().toString();
        Result r = store.submit(new Command.SessionCreate(id, "weft-net " + host, host,
                settings.sessionTtl().toMillis(), 0, Session.Behavior.DELETE, clock.millis())).result();
        if (!(r instanceof Result.SessionValue sv) || sv.session() == null) {
            throw new IllegalStateException("cannot create a session for host " + host + ": " + r);
        }
        session = id;
        writeFile();
        LOG.info("host {}: new session {} (TTL {})", host, id, settings.sessionTtl());
    }

    /**
     * After taking a subnet that another host held before (its session expired), its endpoints in that
     * subnet are stale: their host no longer serves the subnet. They are deleted so the addresses can be used.
     */
    private void removeStaleEndpoints(String network, Ipv4Block subnet) {
        List<KvEntry> stale = store.read(v -> v.list(Keys.endpoints(network)).stream()
                .filter(e -> subnet.contains(Keys.addressOf(e.key())))
                .filter(e -> {
                    try {
                        Endpoint ep = ControlCodec.endpoint(e.value(), e.key());
                        return !ep.host().equals(host);
                    } catch (RuntimeException ex) {
                        return true;
                    }
                }).toList());
        for (KvEntry e : stale) {
            store.submit(new Command.KvDelete(e.key(), false, e.modifyIndex()));
        }
        if (!stale.isEmpty()) {
            LOG.info("host {}: removed {} stale endpoint(s) of another host in {} of network {}", host, stale.size(),
                    subnet, network);
        }
    }

    private Ipv4Block preferred(String network) {
        String s = subnets.get(network);
        if (s == null) {
            return null;
        }
        try {
            return Ipv4Block.parse(s);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void remember(String network, HostLease lease) {
        if (!lease.subnet().toString().equals(subnets.get(network))) {
            subnets.put(network, lease.subnet().toString());
            writeFile();
        }
    }

    private ControlCodec.SessionFileJson readFile() {
        if (!Files.exists(sessionFile)) {
            return null;
        }
        try {
            return ControlCodec.sessionFile(Files.readAllBytes(sessionFile), sessionFile.toString());
        } catch (IOException | RuntimeException e) {
            LOG.warn("host {}: ignoring unreadable session file {}: {}", host, sessionFile, e.toString());
            return null;
        }
    }

    /** Replaces the session file atomically (write a temporary file, then rename it over the old one). */
    private void writeFile() {
        if (closed && session == null) {
            return;
        }
        try {
            Path dir = sessionFile.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve(sessionFile.getFileName() + ".tmp");
            Files.write(tmp, ControlCodec.sessionFile(session, subnets));
            Files.move(tmp, sessionFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + sessionFile, e);
        }
    }

    private void stopRenewing() {
        ScheduledExecutorService r;
        synchronized (this) {
            r = renewer;
            renewer = null;
        }
        if (r != null) {
            r.shutdownNow();
        }
    }

    private void requireRunning() {
        if (!started) {
            throw new IllegalStateException("lease keeper of " + host + " is not started");
        }
        if (closed) {
            throw new IllegalStateException("lease keeper of " + host + " is closed");
        }
    }

    private static String requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return s;
    }
}
