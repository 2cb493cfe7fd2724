package dev.weft.net.control;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The overlay's replicated state as a host reads it: networks, every host's lease, endpoints, all from the
 * local view of the store (no network round trip; on a client agent, possibly a little behind the servers), and
 * change subscriptions on them. A subscription stays armed until closed: the store's watches are one-shot, so
 * each is re-armed before its callback runs and no change is missed in between. Callbacks run on the store's
 * applying thread and must only hand work off (to a queue or executor); a consumer should still resync on a
 * timer and after a reconnect, because a subscription says that something changed, never what.
 */
public final class ControlView {
    private static final Logger LOG = LoggerFactory.getLogger(ControlView.class);

    /** A change subscription; closing is idempotent. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private final ReplicatedStore store;

    public ControlView(ReplicatedStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /** Every network, in creation order. */
    public List<Network> networks() {
        return store.read(ControlView::networks);
    }

    public Optional<Network> network(String name) {
        return store.read(v -> network(v, name));
    }

    /** Every host's lease in {@code network}, in subnet order (empty for an unknown network). */
    public List<HostLease> leases(String network) {
        return store.read(v -> decodeAll(v.list(Keys.leases(network)),
                e -> ControlCodec.lease(e.value(), e.key()).toLease(network)));
    }

    /** The endpoints of {@code network}, in key order. */
    public List<Endpoint> endpoints(String network) {
        return store.read(v -> endpoints(v, Keys.endpoints(network)));
    }

    /** The endpoints of every network. */
    public List<Endpoint> endpoints() {
        return store.read(v -> endpoints(v, Keys.ENDPOINTS));
    }

    /** The endpoint with this ID, in any network. */
    public Optional<Endpoint> endpoint(String endpointId) {
        return endpoints().stream().filter(e -> e.id().equals(endpointId)).findFirst();
    }

    /** Runs {@code callback} after every committed change of the network registry. */
    public Subscription onNetworksChanged(Runnable callback) {
        return new Rearming(store.watches(), Keys.REGISTRY, false, callback);
    }

    /** Runs {@code callback} after every committed change of a lease of {@code network} (any host's). */
    public Subscription onLeasesChanged(String network, Runnable callback) {
        String prefix = Keys.leases(network);
        return new Rearming(store.watches(), prefix, true, callback);
    }

    /** Runs {@code callback} after every committed change of an endpoint of {@code network}. */
    public Subscription onEndpointsChanged(String network, Runnable callback) {
        String prefix = Keys.endpoints(network);
        return new Rearming(store.watches(), prefix, true, callback);
    }

    // ---- reads shared with the writers (under the view's read lock) ----------------------------------------

    static List<Network> networks(KvReadView v) {
        KvEntry e = v.get(Keys.REGISTRY);
        return e == null ? List.of() : ControlCodec.registry(e.value());
    }

    static Optional<Network> network(KvReadView v, String name) {
        return networks(v).stream().filter(n -> n.name().equals(name)).findFirst();
    }

    static List<Endpoint> endpoints(KvReadView v, String prefix) {
        return decodeAll(v.list(prefix), e -> ControlCodec.endpoint(e.value(), e.key()));
    }

    /** Decodes each entry; an undecodable value is logged and left out rather than hiding all the others. */
    static <T> List<T> decodeAll(List<KvEntry> entries, Function<KvEntry, T> decode) {
        List<T> out = new ArrayList<>(entries.size());
        for (KvEntry e : entries) {
            try {
                out.add(decode.apply(e));
            } catch (RuntimeException ex) {
                LOG.warn("ignoring {}: {}", e.key(), ex.getMessage());
            }
        }
        return out;
    }

    /** A one-shot store watch that re-arms itself before each callback. */
    private static final class Rearming implements Subscription {
        private final Watches watches;
        private final String name;
        private final boolean prefix;
        private final Runnable callback;
        private Watches.Handle handle;
        private boolean closed;

        Rearming(Watches watches, String name, boolean prefix, Runnable callback) {
            this.watches = watches;
            this.name = name;
            this.prefix = prefix;
            this.callback = Objects.requireNonNull(callback, "callback");
            arm();
        }

        private synchronized void arm() {
            if (!closed) {
                handle = prefix ? watches.onPrefix(name, this::fired) : watches.onKey(name, this::fired);
            }
        }

        private void fired() {
            arm();
            try {
                callback.run();
            } catch (RuntimeException e) {
                LOG.warn("change callback for {} failed: {}", name, e.toString());
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            if (handle != null) {
                handle.cancel();
            }
        }
    }
}
