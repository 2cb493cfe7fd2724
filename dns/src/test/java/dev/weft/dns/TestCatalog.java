package dev.weft.dns;

import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.state.Result;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/** A real {@link KvState} behind a read/write lock, as the agent's store holds it, with catalog shorthands. */
final class TestCatalog implements CatalogReader {
    private final KvState state = new KvState();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, CatalogNode> nodes = new HashMap<>();
    private long index = 1;

    @Override
    public <T> T read(Function<CatalogView, T> reader) {
        lock.readLock().lock();
        try {
            return reader.apply(state.catalog());
        } finally {
            lock.readLock().unlock();
        }
    }

    void apply(Command command) {
        lock.writeLock().lock();
        try {
            Applied applied = state.apply(index++, command);
            if (applied.result() instanceof Result.Invalid invalid) {
                throw new IllegalArgumentException(invalid.message());
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    TestCatalog node(String name, String address) {
        return node(name, address, Map.of());
    }

    TestCatalog node(String name, String address, Map<String, String> meta) {
        CatalogNode n = new CatalogNode(name, "", address, Map.of(), meta, 0, 0);
        nodes.put(name, n);
        apply(new Command.CatalogRegister(n, null, List.of(), false));
        return this;
    }

    /** A node-level check (Consul's serfHealth). */
    TestCatalog nodeCheck(String node, HealthStatus status) {
        apply(new Command.CatalogRegister(nodes.get(node), null,
                List.of(check(node, CatalogView.NODE_HEALTH_CHECK, "", status)), true));
        return this;
    }

    /** A service instance with one check "service:<id>" in {@code status}; address "" = the node's. */
    TestCatalog service(String node, String id, String service, String address, int port, List<String> tags,
                        HealthStatus status) {
        return service(node, id, service, address, port, tags, status, 1, 1);
    }

    TestCatalog service(String node, String id, String service, String address, int port, List<String> tags,
                        HealthStatus status, int weightPassing, int weightWarning) {
        CatalogService s = new CatalogService(node, id, service, tags, address, port, Map.of(), weightPassing,
                weightWarning, false, 0, 0);
        apply(new Command.CatalogRegister(nodes.get(node), s, List.of(check(node, "service:" + id, id, status)),
                true));
        return this;
    }

    TestCatalog checkStatus(String node, String checkId, HealthStatus status) {
        apply(new Command.CheckStatus(node, checkId, status, ""));
        return this;
    }

    TestCatalog deregister(String node, String serviceId) {
        apply(new Command.CatalogDeregister(node, serviceId, null));
        return this;
    }

    private static CatalogCheck check(String node, String checkId, String serviceId, HealthStatus status) {
        return new CatalogCheck(node, checkId, checkId, status, "", "", serviceId, "", List.of(), "ttl", "", "",
                0, 0, 0);
    }
}
