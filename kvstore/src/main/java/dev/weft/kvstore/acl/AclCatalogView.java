package dev.weft.kvstore.acl;

import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.HealthStatus;

import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * The catalog as one token may see it: nodes it may not read, services it may not read (and instances on such
 * nodes) and their checks are left out, as Consul filters its answers. DNS reads the catalog through this with
 * the agent token, so names it may not read answer NXDOMAIN. Indexes and counts are not filtered.
 */
public final class AclCatalogView implements CatalogView {
    private final CatalogView catalog;
    private final Authorizer authz;

    public AclCatalogView(CatalogView catalog, Authorizer authz) {
        this.catalog = catalog;
        this.authz = authz;
    }

    private boolean node(CatalogNode n) {
        return n != null && authz.read(Resource.NODE, n.node());
    }

    private boolean instance(CatalogService s) {
        return s != null && authz.read(Resource.SERVICE, s.service()) && authz.read(Resource.NODE, s.node());
    }

    /** A service's check is readable with service read, a node's check with node read. */
    public static boolean mayRead(Authorizer authz, CatalogCheck ch) {
        return ch.serviceName() != null && !ch.serviceName().isEmpty()
                ? authz.read(Resource.SERVICE, ch.serviceName()) && authz.read(Resource.NODE, ch.node())
                : authz.read(Resource.NODE, ch.node());
    }

    @Override
    public long nodesIndex() {
        return catalog.nodesIndex();
    }

    @Override
    public long servicesIndex() {
        return catalog.servicesIndex();
    }

    @Override
    public long checksIndex() {
        return catalog.checksIndex();
    }

    @Override
    public long serviceIndex(String serviceName) {
        return catalog.serviceIndex(serviceName);
    }

    @Override
    public List<CatalogNode> nodes() {
        return catalog.nodes().stream().filter(this::node).toList();
    }

    @Override
    public CatalogNode node(String name) {
        CatalogNode n = catalog.node(name);
        return node(n) ? n : null;
    }

    @Override
    public CatalogNode nodeIgnoringCase(String name) {
        CatalogNode n = catalog.nodeIgnoringCase(name);
        return node(n) ? n : null;
    }

    @Override
    public Map<String, SortedSet<String>> services() {
        Map<String, SortedSet<String>> out = new TreeMap<>(catalog.services());
        out.keySet().removeIf(name -> !authz.read(Resource.SERVICE, name));
        return out;
    }

    @Override
    public List<CatalogService> serviceInstances(String serviceName) {
        return catalog.serviceInstances(serviceName).stream().filter(this::instance).toList();
    }

    @Override
    public List<CatalogService> servicesOfNode(String node) {
        return catalog.servicesOfNode(node).stream().filter(this::instance).toList();
    }

    @Override
    public CatalogService service(String node, String serviceId) {
        CatalogService s = catalog.service(node, serviceId);
        return instance(s) ? s : null;
    }

    @Override
    public List<CatalogService> allServices() {
        return catalog.allServices().stream().filter(this::instance).toList();
    }

    @Override
    public List<CatalogCheck> checksOfNode(String node) {
        return catalog.checksOfNode(node).stream().filter(ch -> mayRead(authz, ch)).toList();
    }

    @Override
    public CatalogCheck check(String node, String checkId) {
        CatalogCheck ch = catalog.check(node, checkId);
        return ch != null && mayRead(authz, ch) ? ch : null;
    }

    @Override
    public List<CatalogCheck> checksOfInstance(CatalogService instance) {
        return catalog.checksOfInstance(instance).stream().filter(ch -> mayRead(authz, ch)).toList();
    }

    @Override
    public List<CatalogCheck> checksOfService(String serviceName) {
        return catalog.checksOfService(serviceName).stream().filter(ch -> mayRead(authz, ch)).toList();
    }

    @Override
    public List<CatalogCheck> checksInState(HealthStatus status) {
        return catalog.checksInState(status).stream().filter(ch -> mayRead(authz, ch)).toList();
    }

    @Override
    public HealthStatus health(CatalogService instance) {
        return catalog.health(instance);
    }

    @Override
    public long heartbeats(String node) {
        return catalog.heartbeats(node);
    }

    @Override
    public int nodeCount() {
        return catalog.nodeCount();
    }

    @Override
    public int serviceCount() {
        return catalog.serviceCount();
    }

    @Override
    public int checkCount() {
        return catalog.checkCount();
    }
}
