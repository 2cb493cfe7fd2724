package dev.weft.kvstore.state;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * Read API of the replicated service catalog (nodes, service instances, health checks), reached through
 * {@link KvReadView#catalog()} under the state's read lock. Returned records are immutable, so callers may keep
 * them after the lock is released. Service names are matched case-insensitively (as Consul's catalog and DNS
 * do) and reported with the spelling they were registered with.
 *
 * <p>Index rules, as in Consul: {@link #nodesIndex()}, {@link #servicesIndex()}, {@link #checksIndex()} are the
 * last index at which that table changed; {@link #serviceIndex(String)} is the last index at which anything that
 * changes the health answer of that service changed (an instance, its checks, its node or the node's checks).
 */
public interface CatalogView {
    /** Check ID of the per-agent liveness check the leader turns critical when the agent stops heart-beating. */
    String NODE_HEALTH_CHECK = "serfHealth";

    /** Watch topics (see {@code Watches.onCatalog}). */
    String TOPIC_NODES = "nodes";
    String TOPIC_SERVICES = "services";
    String TOPIC_CHECKS = "checks";

    static String serviceTopic(String serviceName) {
        return "service:" + serviceName.toLowerCase(java.util.Locale.ROOT);
    }

    long nodesIndex();

    long servicesIndex();

    long checksIndex();

    /** Index for health/catalog queries of one service; the services table index when it never existed. */
    long serviceIndex(String serviceName);

    /** Highest of the three table indexes (for queries spanning them). */
    default long catalogIndex() {
        return Math.max(nodesIndex(), Math.max(servicesIndex(), checksIndex()));
    }

    List<CatalogNode> nodes();

    CatalogNode node(String name);

    /** The node of that name regardless of case (the exact spelling first), as DNS looks nodes up. */
    CatalogNode nodeIgnoringCase(String name);

    /** Service name to the union of its instances' tags (sorted), as {@code /v1/catalog/services}. */
    Map<String, SortedSet<String>> services();

    /** All instances of a service, ordered by node then ID. */
    List<CatalogService> serviceInstances(String serviceName);

    List<CatalogService> servicesOfNode(String node);

    CatalogService service(String node, String serviceId);

    /** Every service instance, ordered by node then ID (for reverse lookups). */
    List<CatalogService> allServices();

    /** Node checks and service checks of a node, ordered by check ID. */
    List<CatalogCheck> checksOfNode(String node);

    CatalogCheck check(String node, String checkId);

    /** The checks that decide an instance's health: its node's node-level checks and its own checks. */
    List<CatalogCheck> checksOfInstance(CatalogService instance);

    /** All checks of instances of a service (service-level only), as {@code /v1/health/checks/<s>}. */
    List<CatalogCheck> checksOfService(String serviceName);

    /** All checks in the given status, or all checks when {@code status} is null. */
    List<CatalogCheck> checksInState(HealthStatus status);

    /** Worst status over {@link #checksOfInstance}; passing when it has no checks. */
    HealthStatus health(CatalogService instance);

    /**
     * Count of heartbeats applied for a node since this member started or restored a snapshot. It is not part
     * of snapshots; the leader only compares it between ticks to see whether an agent is alive.
     */
    long heartbeats(String node);

    int nodeCount();

    int serviceCount();

    int checkCount();
}
