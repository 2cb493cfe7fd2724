package dev.weft.net.host;

import dev.weft.net.control.ControlView;
import dev.weft.net.dataplane.Reconciliation;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The networks this host has joined, kept equal to the replicated state: the one owner of "which overlay
 * devices should exist here". A host joins a network when it first needs it (Docker's {@code CreateNetwork} or
 * {@code Join}, a CNI {@code ADD}) and from then on holds a lease in it; on {@link #start()} it rejoins every network
 * its lease keeper still holds (the session file survives restarts), so a restarted agent re-adopts its devices
 * without touching them.
 *
 * <p>Per joined network: a watch on its leases re-reconciles as soon as another host's lease commits or goes;
 * a loop reconciles every joined network every {@code interval} (30 s by default) and removes the devices of a
 * network deleted from the registry. All kernel work runs on one thread ({@code weft-net-reconcile}) or on the
 * caller of {@link #join} (the data plane serializes them).
 */
public final class HostNetworks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HostNetworks.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

    private final HostOverlay overlay;
    private final Duration interval;
    private final ScheduledExecutorService loop;
    /** Joined network → its lease-change subscription. */
    private final Map<String, ControlView.Subscription> watched = new ConcurrentHashMap<>();
    /** Joined network → the definition its devices were last built from (to remove them once it is deleted). */
    private final Map<String, Network> built = new ConcurrentHashMap<>();
    private final List<Runnable> gatewayListeners = new CopyOnWriteArrayList<>();
    private final AtomicLong reconciles = new AtomicLong();
    private final AtomicLong changes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private ControlView.Subscription networksWatch;
    private volatile boolean closed;

    public HostNetworks(HostOverlay overlay, Duration interval) {
        this.overlay = Objects.requireNonNull(overlay, "overlay");
        this.interval = Objects.requireNonNull(interval, "interval");
        if (interval.toMillis() < 100) {
            throw new IllegalArgumentException("reconcile interval " + interval + " is under 100 ms");
        }
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "weft-net-reconcile");
            t.setDaemon(true);
            return t;
        });
    }

    public HostNetworks(HostOverlay overlay) {
        this(overlay, DEFAULT_INTERVAL);
    }

    public HostOverlay overlay() {
        return overlay;
    }

    /**
     * Rejoins the networks this host's (started) lease keeper holds, reconciles them now, then every interval.
     */
    public HostNetworks start() {
        for (Network n : overlay.view().networks()) {
            if (overlay.keeper().current(n.name()).isPresent()) {
                watch(n.name());
                reconcileQuietly(n.name(), "start");
            }
        }
        networksWatch = overlay.view().onNetworksChanged(() -> submit(this::reconcileAll));
        long every = interval.toMillis();
        loop.scheduleWithFixedDelay(this::reconcileAll, every, every, TimeUnit.MILLISECONDS);
        LOG.info("overlay: host {} started with networks {} (reconciled every {} s)", overlay.keeper().host(),
                joined(), interval.toSeconds());
        return this;
    }

    /**
     * Joins {@code network} on this host: takes (or keeps) a lease, makes its devices and entries, and watches
     * other hosts' leases.
     *
     * @throws IllegalArgumentException when the network does not exist
     */
    public HostLease join(String network) {
        Network n = overlay.view().network(network).orElseThrow(() -> new IllegalArgumentException(
                "no weft network '" + network + "'"));
        HostLease lease = overlay.keeper().lease(network);
        boolean fresh = !watched.containsKey(network);
        watch(network);
        reconcile(n, lease, fresh ? "join" : "rejoin");
        if (fresh) {
            gatewayListeners.forEach(Runnable::run);
        }
        return lease;
    }

    /** Leaves {@code network}: removes its devices here and releases this host's lease. */
    public void leave(String network) {
        forget(network, true);
        overlay.keeper().release(network);
        gatewayListeners.forEach(Runnable::run);
        LOG.info("overlay: host {} left network {}", overlay.keeper().host(), network);
    }

    /**
     * The host leaves for good: stops watching, removes the devices of every joined network (with their routes,
     * neighbours and FDB entries) and ends the lease keeper's session, which deletes this host's leases and
     * endpoints in one entry, so other hosts drop their routes to it at once instead of after the lease TTL.
     */
    public void leaveAll() {
        for (String name : joined()) {
            forget(name, false);
        }
        overlay.keeper().leave();
        gatewayListeners.forEach(Runnable::run);
        LOG.info("overlay: host {} left every network", overlay.keeper().host());
    }

    /**
     * Stops watching a network and removes its devices here, built from the definition they were made from (else
     * the registry's). A failure is thrown when {@code strict}, else counted and logged.
     */
    private void forget(String name, boolean strict) {
        ControlView.Subscription s = watched.remove(name);
        if (s != null) {
            s.close();
        }
        Network n = built.remove(name);
        if (n == null) {
            n = overlay.view().network(name).orElse(null);
        }
        if (n == null) {
            return;
        }
        try {
            overlay.dataPlane().remove(n);
        } catch (RuntimeException e) {
            if (strict) {
                throw e;
            }
            failures.incrementAndGet();
            LOG.warn("overlay: removing the devices of network {} failed: {}", name, e.toString());
        }
    }

    /** The networks this host has joined, sorted. */
    public Set<String> joined() {
        return new TreeSet<>(watched.keySet());
    }

    /** Whether this host has joined {@code network} (no copy: for per-call checks). */
    public boolean isJoined(String network) {
        return watched.containsKey(network);
    }

    /** This host's gateway addresses (first address of each joined network's subnet). */
    public List<Inet4Address> gateways() {
        List<Inet4Address> out = new ArrayList<>();
        for (String name : joined()) {
            overlay.keeper().current(name).ifPresent(l -> out.add(l.gateway()));
        }
        return out;
    }

    /** Runs {@code listener} (on some overlay thread) whenever the set of {@link #gateways()} may have changed. */
    public void onGatewaysChanged(Runnable listener) {
        gatewayListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Reconciles every joined network now, on the calling thread; removes the devices of deleted networks. */
    public void reconcileAll() {
        if (closed) {
            return;
        }
        boolean gatewaysChanged = false;
        for (String name : joined()) {
            Optional<Network> n = overlay.view().network(name);
            if (n.isEmpty()) {
                forget(name, false);
                LOG.info("overlay: network {} was deleted: removed its devices", name);
                gatewaysChanged = true;
                continue;
            }
            reconcileQuietly(name, "timer");
        }
        if (gatewaysChanged) {
            gatewayListeners.forEach(Runnable::run);
        }
    }

    /** Reconciliation passes run, kernel changes they made, and passes that failed (for metrics). */
    public long reconciles() {
        return reconciles.get();
    }

    public long changes() {
        return changes.get();
    }

    public long failures() {
        return failures.get();
    }

    /** Stops watching and reconciling; devices, leases and traffic stay (a restart re-adopts them). */
    @Override
    public void close() {
        closed = true;
        if (networksWatch != null) {
            networksWatch.close();
        }
        watched.values().forEach(ControlView.Subscription::close);
        watched.clear();
        loop.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void watch(String name) {
        watched.computeIfAbsent(name, k -> overlay.view().onLeasesChanged(k,
                () -> submit(() -> reconcileQuietly(k, "lease change"))));
    }

    private void submit(Runnable work) {
        if (closed) {
            return;
        }
        try {
            loop.execute(work);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void reconcileQuietly(String name, String why) {
        if (closed || !watched.containsKey(name)) {
            return;
        }
        try {
            Optional<Network> n = overlay.view().network(name);
            Optional<HostLease> lease = overlay.keeper().current(name);
            if (n.isEmpty()) {
                return; // reconcileAll removes it
            }
            if (lease.isEmpty()) {
                // lost (expired while this host was away): the keeper re-takes it on its next renewal
                lease = Optional.of(overlay.keeper().lease(name));
                gatewayListeners.forEach(Runnable::run);
            }
            reconcile(n.get(), lease.get(), why);
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            LOG.warn("overlay: reconciling network {} ({}) failed: {}", name, why, e.toString());
        }
    }

    private void reconcile(Network n, HostLease lease, String why) {
        Reconciliation done = overlay.dataPlane().reconcile(n, lease, overlay.view().leases(n.name()), overlay.underlay());
        built.put(n.name(), n);
        reconciles.incrementAndGet();
        if (!done.unchanged()) {
            changes.addAndGet(done.changes().size());
            LOG.info("overlay: network {} reconciled ({}): {} changes {}", n.name(), why, done.changes().size(),
                    done.changes());
        }
    }
}
