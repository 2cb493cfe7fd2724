package dev.weft.net.control;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.TxnOp;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.netlink.MacAddress;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Endpoint addresses of one host: each endpoint gets the lowest free address of the host's subnet (never the
 * subnet's network address, its gateway — the first host address — or its broadcast address). The key
 * {@code _weft/net/endpoints/<network>/<ip>} is created with compare-and-set 0 in a transaction that also checks
 * that the network is unchanged and that the host's session still holds the subnet; a lost race moves on to
 * the next address, so no address is ever given twice, however many hosts and threads allocate. Thread-safe.
 */
public final class EndpointIpam {
    private final Proposals store;
    private final LeaseKeeper keeper;
    private final ControlSettings settings;

    public EndpointIpam(ReplicatedStore store, LeaseKeeper keeper, ControlSettings settings, Clock clock) {
        this.store = new Proposals(Objects.requireNonNull(store, "store"), Objects.requireNonNull(clock, "clock"));
        this.keeper = Objects.requireNonNull(keeper, "keeper");
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    public EndpointIpam(ReplicatedStore store, LeaseKeeper keeper, ControlSettings settings) {
        this(store, keeper, settings, Clock.systemUTC());
    }

    /** {@link #allocate(String, String, String, MacAddress)} with the MAC derived from the address. */
    public Endpoint allocate(String network, String endpointId, String containerId) {
        return allocate(network, endpointId, containerId, null);
    }

    /**
     * Gives endpoint {@code endpointId} an address of this host's subnet of {@code network} (leasing one if the
     * host has none yet). "Ensure": an endpoint that already exists with this ID and container is returned as
     * it is.
     *
     * @param mac the endpoint's MAC, or null for {@code 02:42:<ip>} (Docker's scheme)
     * @throws IllegalArgumentException when the network does not exist, or the ID belongs to another container
     * @throws PoolExhaustedException   when the host's subnet has no free address
     */
    public Endpoint allocate(String network, String endpointId, String containerId, MacAddress mac) {
        Keys.checkName(network);
        requireText(endpointId, "endpoint ID");
        requireText(containerId, "container ID");
        Set<Integer> lost = new HashSet<>();
        boolean barrier = true;
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            if (barrier) {
                store.barrier();
                barrier = false;
            }
            Optional<Endpoint> existing = find(network, endpointId);
            if (existing.isPresent()) {
                if (!existing.get().containerId().equals(containerId)) {
                    throw new IllegalArgumentException("endpoint '" + endpointId + "' of network '" + network
                            + "' belongs to container " + existing.get().containerId() + ", not " + containerId);
                }
                return existing.get();
            }
            HostLease lease = keeper.current(network).orElseGet(() -> keeper.lease(network));
            String session = keeper.sessionId();
            Ipv4Block subnet = Ipv4Block.of(lease.subnet());
            String leaseKey = Keys.lease(network, subnet);
            State s = store.read(v -> new State(v.get(Keys.network(network)), v.get(Keys.REGISTRY),
                    v.keys(Keys.endpoints(network), "")));
            Set<Integer> taken = new HashSet<>(lost);
            for (String key : s.endpointKeys) {
                taken.add(Keys.addressOf(key));
            }
            OptionalInt free = subnet.lowestFreeEndpoint(taken);
            if (free.isEmpty()) {
                if (lost.isEmpty()) {
                    throw new PoolExhaustedException("no free address in " + subnet + " (network '" + network
                            + "', host " + keeper.host() + "): all " + subnet.endpointCapacity() + " are in use");
                }
                lost.clear();
                barrier = true;
                continue;
            }
            int ip = free.getAsInt();
            Endpoint endpoint = new Endpoint(network, endpointId, containerId, keeper.host(), Ipv4Block.toInet(ip),
                    mac != null ? mac : macOf(ip));
            KvEntry guard = s.mirror != null ? s.mirror : s.registry;
            if (guard == null) {
                throw new IllegalArgumentException("unknown network '" + network + "'");
            }
            Result.Txn t = store.txn(List.of(
                    new TxnOp(TxnOp.Verb.CHECK_INDEX, guard.key(), null, 0, guard.modifyIndex(), null),
                    new TxnOp(TxnOp.Verb.CHECK_SESSION, leaseKey, null, 0, 0, session),
                    new TxnOp(TxnOp.Verb.CHECK_NOT_EXISTS, Keys.endpoint(network, ip), null, 0, 0, null),
                    // held by the host's session, as its lease is: when the host's session expires, the state
                    // machine deletes its lease and its endpoints' addresses in the same entry
                    new TxnOp(TxnOp.Verb.LOCK, Keys.endpoint(network, ip), ControlCodec.endpoint(endpoint), 0, 0,
                            session)));
            if (t.committed()) {
                return endpoint;
            }
            int failed = Proposals.failedOp(t);
            if (failed == 2 || failed == 3) {
                lost.add(ip); // taken by a concurrent allocation (or in its lock delay): try the next address
            } else {
                barrier = true; // the network or the lease changed: look again
                Proposals.backOff(attempt);
            }
        }
        throw new IllegalStateException("could not allocate an address for endpoint '" + endpointId + "' in network '"
                + network + "': kept losing races (" + settings.maxAttempts() + " attempts)");
    }

    /**
     * Frees the endpoint's address (delete with compare-and-set on its ModifyIndex). Idempotent.
     *
     * @return false when no such endpoint exists
     */
    public boolean release(String network, String endpointId) {
        Keys.checkName(network);
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            store.barrier();
            Optional<KvEntry> entry = store.read(v -> v.list(Keys.endpoints(network)).stream()
                    .filter(e -> endpointId.equals(idOf(e))).findFirst());
            if (entry.isEmpty()) {
                return false;
            }
            if (store.bool(new Command.KvDelete(entry.get().key(), false, entry.get().modifyIndex()))) {
                return true;
            }
            Proposals.backOff(attempt);
        }
        throw new IllegalStateException("could not release endpoint '" + endpointId + "': it kept changing");
    }

    /**
     * Gives the endpoint holding {@code ip} a new ID, container and MAC, keeping its address (compare-and-set on
     * its ModifyIndex). Docker's IPAM asks for an address before the endpoint has an ID, so the address is
     * allocated under a placeholder ID and bound to the real one when Docker creates the endpoint. "Ensure": an
     * endpoint already bound so is returned as it is.
     *
     * @param mac the new MAC, or null to keep the endpoint's
     * @throws IllegalArgumentException when no endpoint of {@code network} holds {@code ip}, or it is another
     *                                  host's
     */
    public Endpoint bind(String network, java.net.Inet4Address ip, String endpointId, String containerId,
                         MacAddress mac) {
        Keys.checkName(network);
        requireText(endpointId, "endpoint ID");
        requireText(containerId, "container ID");
        String key = Keys.endpoint(network, Ipv4Block.toInt(ip));
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            store.barrier();
            KvEntry entry = store.read(v -> v.get(key));
            if (entry == null) {
                throw new IllegalArgumentException("no endpoint of network '" + network + "' holds "
                        + ip.getHostAddress());
            }
            Endpoint current = ControlCodec.endpoint(entry.value(), entry.key());
            if (!current.host().equals(keeper.host())) {
                throw new IllegalArgumentException("address " + ip.getHostAddress() + " of network '" + network
                        + "' belongs to host " + current.host() + ", not " + keeper.host());
            }
            Endpoint bound = new Endpoint(network, endpointId, containerId, current.host(), current.ip(),
                    mac != null ? mac : current.mac());
            if (bound.equals(current)) {
                return current;
            }
            Result.Txn t = store.txn(List.of(new TxnOp(TxnOp.Verb.CAS, key, ControlCodec.endpoint(bound), 0,
                    entry.modifyIndex(), null)));
            if (t.committed()) {
                return bound;
            }
            Proposals.backOff(attempt);
        }
        throw new IllegalStateException("could not bind " + ip.getHostAddress() + " of network '" + network
                + "' to endpoint '" + endpointId + "': it kept changing");
    }

    /** The endpoint with this ID in {@code network}, from the local view. */
    public Optional<Endpoint> find(String network, String endpointId) {
        return endpoints(network).stream().filter(e -> e.id().equals(endpointId)).findFirst();
    }

    /** The endpoint with this ID in any network, from the local view. */
    public Optional<Endpoint> find(String endpointId) {
        return store.read(v -> ControlView.endpoints(v, Keys.ENDPOINTS)).stream()
                .filter(e -> e.id().equals(endpointId)).findFirst();
    }

    public List<Endpoint> endpoints(String network) {
        return store.read(v -> ControlView.endpoints(v, Keys.endpoints(network)));
    }

    /**
     * Garbage collection: deletes this host's endpoints (in every network) whose container is gone.
     *
     * @param containerExists whether a container ID still exists on this host
     * @return the endpoints removed
     */
    public List<Endpoint> collectGarbage(Predicate<String> containerExists) {
        store.barrier();
        List<KvEntry> entries = store.read(v -> v.list(Keys.ENDPOINTS));
        List<Endpoint> removed = new ArrayList<>();
        for (KvEntry e : entries) {
            Endpoint ep;
            try {
                ep = ControlCodec.endpoint(e.value(), e.key());
            } catch (RuntimeException ex) {
                continue;
            }
            if (ep.host().equals(keeper.host()) && !containerExists.test(ep.containerId())
                    && store.bool(new Command.KvDelete(e.key(), false, e.modifyIndex()))) {
                removed.add(ep);
            }
        }
        return removed;
    }

    /** Docker's MAC scheme: {@code 02:42} and the four address bytes (locally administered, unicast). */
    static MacAddress macOf(int ip) {
        return MacAddress.of(new byte[]{0x02, 0x42, (byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8),
                (byte) ip});
    }

    private record State(KvEntry mirror, KvEntry registry, List<String> endpointKeys) {
    }

    private static String idOf(KvEntry e) {
        try {
            return ControlCodec.endpoint(e.value(), e.key()).id();
        } catch (RuntimeException ex) {
            return null;
        }
    }

    private static void requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
    }
}
