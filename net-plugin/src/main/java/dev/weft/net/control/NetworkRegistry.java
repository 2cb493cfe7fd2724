package dev.weft.net.control;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.TxnOp;
import dev.weft.net.model.Network;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.security.SecureRandom;

/**
 * Creates and deletes overlay networks. The registry key {@code _weft/net/registry} lists them all; every
 * change is a read-modify-write of it with compare-and-set on its ModifyIndex (0: must not exist yet), retried
 * after a lost race, so two concurrent creations never get overlapping CIDRs, the same name or the same VNI.
 * The mirror key {@code _weft/net/networks/<name>} is written in the same transaction. Thread-safe.
 */
public final class NetworkRegistry {
    private static final SecureRandom IDS = new SecureRandom();

    private final Proposals store;
    private final ControlSettings settings;

    public NetworkRegistry(ReplicatedStore store, ControlSettings settings) {
        this(store, settings, Clock.systemUTC());
    }

    public NetworkRegistry(ReplicatedStore store, ControlSettings settings, Clock clock) {
        this.store = new Proposals(Objects.requireNonNull(store, "store"), clock);
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * Creates a network, choosing what the request leaves open (CIDR from the cluster range, VNI, ID).
     *
     * @throws IllegalArgumentException when the name, ID, CIDR or VNI is invalid or taken, or the CIDR overlaps
     *                                  another network
     * @throws PoolExhaustedException   when no CIDR or VNI is left to choose
     * @throws IllegalStateException    when {@link ControlSettings#maxAttempts()} attempts all lost their race
     */
    public Network create(NetworkRequest request) {
        Objects.requireNonNull(request, "request");
        String generatedId = request.id() != null ? null : HexFormat.of().formatHex(randomBytes(32));
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            store.barrier();
            KvEntry entry = store.read(v -> v.get(Keys.REGISTRY));
            List<Network> existing = entry == null ? List.of() : ControlCodec.registry(entry.value());
            Network network = NetworkPlanner.plan(existing, request, settings, generatedId);
            List<Network> updated = new ArrayList<>(existing);
            updated.add(network);
            Result.Txn t = store.txn(List.of(
                    cas(entry, ControlCodec.registry(updated)),
                    new TxnOp(TxnOp.Verb.SET, Keys.network(network.name()), ControlCodec.network(network), 0, 0, null)));
            if (t.committed()) {
                return network;
            }
            Proposals.backOff(attempt);
        }
        throw new IllegalStateException("could not create network '" + request.name() + "': the registry kept "
                + "changing (" + settings.maxAttempts() + " attempts)");
    }

    /**
     * Checks that {@code name} can name a network (it is a key segment): a letter or digit, then letters, digits,
     * {@code _ . -}; at most 64.
     *
     * @throws IllegalArgumentException when it cannot
     */
    public static String checkName(String name) {
        return Keys.checkName(name);
    }

    /**
     * Deletes a network with its leases and endpoints, in one transaction.
     *
     * @return false when there is no such network
     * @throws IllegalStateException when endpoints are still attached to it
     */
    public boolean delete(String name) {
        Keys.checkName(name);
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            store.barrier();
            KvEntry entry = store.read(v -> v.get(Keys.REGISTRY));
            List<Network> existing = entry == null ? List.of() : ControlCodec.registry(entry.value());
            List<Network> updated = existing.stream().filter(n -> !n.name().equals(name)).toList();
            if (updated.size() == existing.size()) {
                return false;
            }
            int endpoints = store.read(v -> v.keys(Keys.endpoints(name), "").size());
            if (endpoints > 0) {
                throw new IllegalStateException("network '" + name + "' still has " + endpoints + " endpoint(s)");
            }
            // Leases and endpoints go too: a lease or endpoint written after the check above cannot outlive it.
            Result.Txn t = store.txn(List.of(
                    cas(entry, ControlCodec.registry(updated)),
                    new TxnOp(TxnOp.Verb.DELETE, Keys.network(name), null, 0, 0, null),
                    new TxnOp(TxnOp.Verb.DELETE_TREE, Keys.leases(name), null, 0, 0, null),
                    new TxnOp(TxnOp.Verb.DELETE_TREE, Keys.endpoints(name), null, 0, 0, null)));
            if (t.committed()) {
                return true;
            }
            Proposals.backOff(attempt);
        }
        throw new IllegalStateException("could not delete network '" + name + "': the registry kept changing ("
                + settings.maxAttempts() + " attempts)");
    }

    /** Every network, from the local view. */
    public List<Network> networks() {
        return store.read(ControlView::networks);
    }

    public Optional<Network> network(String name) {
        return store.read(v -> ControlView.network(v, name));
    }

    private static TxnOp cas(KvEntry current, byte[] value) {
        return new TxnOp(TxnOp.Verb.CAS, Keys.REGISTRY, value, 0, current == null ? 0 : current.modifyIndex(), null);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        IDS.nextBytes(b);
        return b;
    }
}
