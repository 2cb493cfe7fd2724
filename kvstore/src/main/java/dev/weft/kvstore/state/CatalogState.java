package dev.weft.kvstore.state;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The catalog tables inside {@link KvState}: nodes, service instances per node, checks per node, and an index of
 * instances by lower-cased service name. Deterministic like the rest of the state; mutated only through
 * {@link KvState#apply}. Registrations whose content equals what is stored change nothing and bump no index, so
 * an agent re-asserting its state (anti-entropy) does not wake blocking queries.
 */
final class CatalogState implements CatalogView {

    final TreeMap<String, CatalogNode> nodes = new TreeMap<>();
    /** Node names by case-insensitive order, for lookups that ignore case (DNS, as Consul). */
    private final TreeMap<String, String> nodeNamesIgnoringCase = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    final TreeMap<String, TreeMap<String, CatalogService>> services = new TreeMap<>();
    final TreeMap<String, TreeMap<String, CatalogCheck>> checks = new TreeMap<>();
    /** lower-cased service name -> "node\0id" -> instance. */
    final TreeMap<String, TreeMap<String, CatalogService>> byName = new TreeMap<>();
    /** lower-cased service name -> last index that changed its health answer (kept after the last instance goes). */
    final TreeMap<String, Long> serviceIndexes = new TreeMap<>();
    long nodesIndex;
    long servicesIndex;
    long checksIndex;
    /** Not in snapshots: see {@link CatalogView#heartbeats}. */
    final Map<String, Long> heartbeatCounts = new HashMap<>();

    /** Set by {@link KvState} for the duration of one apply: the watch topics touched. */
    Set<String> topics;

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static String instanceKey(String node, String id) {
        return node + '\0' + id;
    }

    // ---- commands ----------------------------------------------------------------------------------------

    Result register(long index, Command.CatalogRegister c) {
        String err = Catalogs.validate(c.node());
        CatalogService svc = c.service() == null ? null : c.service().withNode(c.node().node());
        if (err == null && svc != null) {
            err = Catalogs.validate(svc);
        }
        if (err == null && c.checks().size() > Catalogs.MAX_CHECKS_PER_REGISTER) {
            err = "Too many checks (max " + Catalogs.MAX_CHECKS_PER_REGISTER + ")";
        }
        for (int i = 0; err == null && i < c.checks().size(); i++) {
            CatalogCheck ch = c.checks().get(i);
            err = Catalogs.validate(ch);
            if (err == null && !ch.isNodeCheck()) {
                boolean known = (svc != null && svc.id().equals(ch.serviceId()))
                        || service(c.node().node(), ch.serviceId()) != null;
                if (!known) {
                    err = "Unknown service ID '" + ch.serviceId() + "' for check ID '" + ch.checkId() + "'";
                }
            }
        }
        if (err != null) {
            return new Result.Invalid(err);
        }
        String nodeName = c.node().node();
        CatalogNode old = nodes.get(nodeName);
        if (old == null || (!c.skipNodeUpdate() && !old.sameContent(c.node()))) {
            nodes.put(nodeName, c.node().withIndexes(old == null ? index : old.createIndex(), index));
            nodeNamesIgnoringCase.putIfAbsent(nodeName, nodeName);
            nodesIndex = index;
            topics.add(TOPIC_NODES);
            touchServicesOfNode(index, nodeName);
        }
        if (svc != null) {
            putService(index, svc);
        }
        for (CatalogCheck ch : c.checks()) {
            putCheck(index, ch.withNode(nodeName));
        }
        return Result.TRUE;
    }

    private void putService(long index, CatalogService svc) {
        TreeMap<String, CatalogService> ofNode = services.computeIfAbsent(svc.node(), k -> new TreeMap<>());
        CatalogService old = ofNode.get(svc.id());
        if (svc.sameContent(old)) {
            return;
        }
        CatalogService stored = svc.withIndexes(old == null ? index : old.createIndex(), index);
        ofNode.put(svc.id(), stored);
        if (old != null && !lower(old.service()).equals(lower(svc.service()))) {
            unindex(index, old);
        }
        byName.computeIfAbsent(lower(svc.service()), k -> new TreeMap<>())
                .put(instanceKey(svc.node(), svc.id()), stored);
        touchService(index, svc.service());
        servicesIndex = index;
        topics.add(TOPIC_SERVICES);
        // Service checks carry the service's name and tags; keep them in step.
        TreeMap<String, CatalogCheck> nodeChecks = checks.get(svc.node());
        if (nodeChecks != null) {
            for (CatalogCheck ch : List.copyOf(nodeChecks.values())) {
                if (ch.serviceId().equals(svc.id())
                        && (!ch.serviceName().equals(svc.service()) || !ch.serviceTags().equals(svc.tags()))) {
                    nodeChecks.put(ch.checkId(), ch.withService(svc.service(), svc.tags())
                            .withIndexes(ch.createIndex(), index));
                    checksIndex = index;
                    topics.add(TOPIC_CHECKS);
                }
            }
        }
    }

    private void unindex(long index, CatalogService old) {
        String name = lower(old.service());
        TreeMap<String, CatalogService> inst = byName.get(name);
        if (inst != null) {
            inst.remove(instanceKey(old.node(), old.id()));
            if (inst.isEmpty()) {
                byName.remove(name);
            }
        }
        touchService(index, old.service());
    }

    private void putCheck(long index, CatalogCheck ch) {
        if (!ch.isNodeCheck()) {
            CatalogService svc = service(ch.node(), ch.serviceId());
            ch = ch.withService(svc.service(), svc.tags());
        } else {
            ch = ch.withService("", List.of());
        }
        TreeMap<String, CatalogCheck> ofNode = checks.computeIfAbsent(ch.node(), k -> new TreeMap<>());
        CatalogCheck old = ofNode.get(ch.checkId());
        if (ch.sameContent(old)) {
            return;
        }
        ofNode.put(ch.checkId(), ch.withIndexes(old == null ? index : old.createIndex(), index));
        checkChanged(index, ch);
        if (old != null && !old.serviceId().equals(ch.serviceId())) {
            checkChanged(index, old);
        }
    }

    private void checkChanged(long index, CatalogCheck ch) {
        checksIndex = index;
        topics.add(TOPIC_CHECKS);
        if (ch.isNodeCheck()) {
            touchServicesOfNode(index, ch.node());
        } else if (!ch.serviceName().isEmpty()) {
            touchService(index, ch.serviceName());
        }
    }

    private void touchService(long index, String name) {
        serviceIndexes.put(lower(name), index);
        topics.add(CatalogView.serviceTopic(name));
    }

    private void touchServicesOfNode(long index, String node) {
        TreeMap<String, CatalogService> ofNode = services.get(node);
        if (ofNode != null) {
            for (CatalogService s : ofNode.values()) {
                touchService(index, s.service());
            }
        }
    }

    Result deregister(long index, Command.CatalogDeregister c) {
        if (c.node() == null || c.node().isEmpty()) {
            return new Result.Invalid("Must provide node");
        }
        String node = c.node();
        if (!nodes.containsKey(node)) {
            return Result.TRUE;
        }
        if (c.serviceId() != null && !c.serviceId().isEmpty()) {
            removeService(index, node, c.serviceId());
        } else if (c.checkId() != null && !c.checkId().isEmpty()) {
            removeCheck(index, node, c.checkId());
        } else {
            touchServicesOfNode(index, node);
            TreeMap<String, CatalogService> ofNode = services.get(node);
            if (ofNode != null) {
                for (String id : List.copyOf(ofNode.keySet())) {
                    removeService(index, node, id);
                }
            }
            TreeMap<String, CatalogCheck> nodeChecks = checks.get(node);
            if (nodeChecks != null) {
                for (String id : List.copyOf(nodeChecks.keySet())) {
                    removeCheck(index, node, id);
                }
            }
            nodes.remove(node);
            if (node.equals(nodeNamesIgnoringCase.get(node))) {
                nodeNamesIgnoringCase.remove(node);
                for (String other : nodes.keySet()) {
                    if (other.equalsIgnoreCase(node)) {
                        nodeNamesIgnoringCase.put(other, other);
                        break;
                    }
                }
            }
            heartbeatCounts.remove(node);
            nodesIndex = index;
            topics.add(TOPIC_NODES);
        }
        return Result.TRUE;
    }

    private void removeService(long index, String node, String id) {
        TreeMap<String, CatalogService> ofNode = services.get(node);
        CatalogService old = ofNode == null ? null : ofNode.remove(id);
        if (old == null) {
            return;
        }
        if (ofNode.isEmpty()) {
            services.remove(node);
        }
        unindex(index, old);
        servicesIndex = index;
        topics.add(TOPIC_SERVICES);
        TreeMap<String, CatalogCheck> nodeChecks = checks.get(node);
        if (nodeChecks != null) {
            for (CatalogCheck ch : List.copyOf(nodeChecks.values())) {
                if (ch.serviceId().equals(id)) {
                    removeCheck(index, node, ch.checkId());
                }
            }
        }
    }

    private void removeCheck(long index, String node, String checkId) {
        TreeMap<String, CatalogCheck> ofNode = checks.get(node);
        CatalogCheck old = ofNode == null ? null : ofNode.remove(checkId);
        if (old == null) {
            return;
        }
        if (ofNode.isEmpty()) {
            checks.remove(node);
        }
        checkChanged(index, old);
    }

    Result checkStatus(long index, Command.CheckStatus c) {
        TreeMap<String, CatalogCheck> ofNode = checks.get(c.node());
        CatalogCheck old = ofNode == null ? null : ofNode.get(c.checkId());
        if (old == null) {
            return Result.FALSE;
        }
        String output = Catalogs.truncate(c.output(), Catalogs.MAX_OUTPUT_BYTES);
        if (old.status() == c.status() && old.output().equals(output)) {
            return Result.TRUE;
        }
        ofNode.put(old.checkId(), old.withStatus(c.status(), output).withIndexes(old.createIndex(), index));
        checkChanged(index, old);
        return Result.TRUE;
    }

    Result heartbeat(long index, Command.NodeHeartbeat c) {
        if (!nodes.containsKey(c.node())) {
            return Result.FALSE;
        }
        heartbeatCounts.merge(c.node(), 1L, Long::sum);
        CatalogCheck health = check(c.node(), NODE_HEALTH_CHECK);
        if (health != null && health.status() != HealthStatus.PASSING) {
            checks.get(c.node()).put(health.checkId(), health.withStatus(HealthStatus.PASSING, ALIVE)
                    .withIndexes(health.createIndex(), index));
            checkChanged(index, health);
        }
        return Result.TRUE;
    }

    static final String ALIVE = "Agent alive and reachable";

    /** Drops remembered indexes of service names that have had no instance since {@code upToIndex}. */
    void reap(long upToIndex) {
        serviceIndexes.entrySet().removeIf(e -> e.getValue() <= upToIndex && !byName.containsKey(e.getKey()));
    }

    void replaceWith(CatalogState o) {
        nodes.clear();
        nodes.putAll(o.nodes);
        nodeNamesIgnoringCase.clear();
        nodeNamesIgnoringCase.putAll(o.nodeNamesIgnoringCase);
        services.clear();
        services.putAll(o.services);
        checks.clear();
        checks.putAll(o.checks);
        byName.clear();
        byName.putAll(o.byName);
        serviceIndexes.clear();
        serviceIndexes.putAll(o.serviceIndexes);
        heartbeatCounts.clear();
        nodesIndex = o.nodesIndex;
        servicesIndex = o.servicesIndex;
        checksIndex = o.checksIndex;
    }

    /** Rebuilds {@link #byName} from {@link #services} (after a snapshot is read). */
    void reindex() {
        nodeNamesIgnoringCase.clear();
        for (String n : nodes.keySet()) {
            nodeNamesIgnoringCase.putIfAbsent(n, n);
        }
        byName.clear();
        for (TreeMap<String, CatalogService> ofNode : services.values()) {
            for (CatalogService s : ofNode.values()) {
                byName.computeIfAbsent(lower(s.service()), k -> new TreeMap<>())
                        .put(instanceKey(s.node(), s.id()), s);
            }
        }
    }

    // ---- reads -------------------------------------------------------------------------------------------

    @Override
    public long nodesIndex() {
        return nodesIndex;
    }

    @Override
    public long servicesIndex() {
        return servicesIndex;
    }

    @Override
    public long checksIndex() {
        return checksIndex;
    }

    @Override
    public long serviceIndex(String serviceName) {
        Long i = serviceIndexes.get(lower(serviceName));
        return i == null ? servicesIndex : i;
    }

    @Override
    public List<CatalogNode> nodes() {
        return List.copyOf(nodes.values());
    }

    @Override
    public CatalogNode node(String name) {
        return nodes.get(name);
    }

    @Override
    public CatalogNode nodeIgnoringCase(String name) {
        CatalogNode exact = nodes.get(name);
        if (exact != null) {
            return exact;
        }
        String actual = nodeNamesIgnoringCase.get(name);
        return actual == null ? null : nodes.get(actual);
    }

    @Override
    public Map<String, SortedSet<String>> services() {
        Map<String, SortedSet<String>> out = new TreeMap<>();
        for (TreeMap<String, CatalogService> inst : byName.values()) {
            SortedSet<String> tags = null;
            for (CatalogService s : inst.values()) {
                if (tags == null) {
                    tags = out.computeIfAbsent(s.service(), k -> new TreeSet<>());
                }
                tags.addAll(s.tags());
            }
        }
        return out;
    }

    @Override
    public List<CatalogService> serviceInstances(String serviceName) {
        TreeMap<String, CatalogService> inst = byName.get(lower(serviceName));
        return inst == null ? List.of() : List.copyOf(inst.values());
    }

    @Override
    public List<CatalogService> servicesOfNode(String node) {
        TreeMap<String, CatalogService> ofNode = services.get(node);
        return ofNode == null ? List.of() : List.copyOf(ofNode.values());
    }

    @Override
    public CatalogService service(String node, String serviceId) {
        TreeMap<String, CatalogService> ofNode = services.get(node);
        return ofNode == null ? null : ofNode.get(serviceId);
    }

    @Override
    public List<CatalogService> allServices() {
        List<CatalogService> out = new ArrayList<>();
        for (TreeMap<String, CatalogService> ofNode : services.values()) {
            out.addAll(ofNode.values());
        }
        return out;
    }

    @Override
    public List<CatalogCheck> checksOfNode(String node) {
        TreeMap<String, CatalogCheck> ofNode = checks.get(node);
        return ofNode == null ? List.of() : List.copyOf(ofNode.values());
    }

    @Override
    public CatalogCheck check(String node, String checkId) {
        TreeMap<String, CatalogCheck> ofNode = checks.get(node);
        return ofNode == null ? null : ofNode.get(checkId);
    }

    @Override
    public List<CatalogCheck> checksOfInstance(CatalogService instance) {
        TreeMap<String, CatalogCheck> ofNode = checks.get(instance.node());
        if (ofNode == null) {
            return List.of();
        }
        List<CatalogCheck> out = new ArrayList<>(2);
        for (CatalogCheck ch : ofNode.values()) {
            if (ch.isNodeCheck() || ch.serviceId().equals(instance.id())) {
                out.add(ch);
            }
        }
        return out;
    }

    @Override
    public List<CatalogCheck> checksOfService(String serviceName) {
        List<CatalogCheck> out = new ArrayList<>();
        for (CatalogService s : serviceInstances(serviceName)) {
            TreeMap<String, CatalogCheck> ofNode = checks.get(s.node());
            if (ofNode != null) {
                for (CatalogCheck ch : ofNode.values()) {
                    if (ch.serviceId().equals(s.id())) {
                        out.add(ch);
                    }
                }
            }
        }
        return out;
    }

    @Override
    public List<CatalogCheck> checksInState(HealthStatus status) {
        List<CatalogCheck> out = new ArrayList<>();
        for (TreeMap<String, CatalogCheck> ofNode : checks.values()) {
            for (CatalogCheck ch : ofNode.values()) {
                if (status == null || ch.status() == status) {
                    out.add(ch);
                }
            }
        }
        return out;
    }

    @Override
    public HealthStatus health(CatalogService instance) {
        HealthStatus worst = HealthStatus.PASSING;
        TreeMap<String, CatalogCheck> ofNode = checks.get(instance.node());
        if (ofNode != null) {
            for (CatalogCheck ch : ofNode.values()) {
                if (ch.isNodeCheck() || ch.serviceId().equals(instance.id())) {
                    worst = worst.worst(ch.status());
                }
            }
        }
        return worst;
    }

    @Override
    public long heartbeats(String node) {
        return heartbeatCounts.getOrDefault(node, 0L);
    }

    @Override
    public int nodeCount() {
        return nodes.size();
    }

    @Override
    public int serviceCount() {
        int n = 0;
        for (TreeMap<String, CatalogService> ofNode : services.values()) {
            n += ofNode.size();
        }
        return n;
    }

    @Override
    public int checkCount() {
        int n = 0;
        for (TreeMap<String, CatalogCheck> ofNode : checks.values()) {
            n += ofNode.size();
        }
        return n;
    }
}
