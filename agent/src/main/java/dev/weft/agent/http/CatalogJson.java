package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * Consul's catalog and health JSON shapes (field names, casing and order as Consul's Go structs marshal them),
 * written with Jackson's streaming generator like {@link ConsulJson}. Lists are never null ({@code []}); empty
 * maps are written as {@code {}}, which every Consul client decodes like Consul's {@code null}.
 */
final class CatalogJson {
    private CatalogJson() {
    }

    /** One health entry of {@code /v1/health/service/<s>}: a service instance, its node and the checks deciding it. */
    record HealthEntry(CatalogNode node, CatalogService service, List<CatalogCheck> checks) {
    }

    /** A service instance with its node, as {@code /v1/catalog/service/<s>} lists it. */
    record ServiceOnNode(CatalogNode node, CatalogService service) {
    }

    // ---- writers reused by other endpoints (agent services / checks) --------------------------------------

    /** Consul's {@code structs.HealthCheck} (also what {@code /v1/agent/checks} shows per check). */
    static void healthCheck(JsonGenerator g, CatalogCheck c) throws IOException {
        g.writeStartObject();
        g.writeStringField("Node", c.node());
        g.writeStringField("CheckID", c.checkId());
        g.writeStringField("Name", c.name());
        g.writeStringField("Status", c.status().wire());
        g.writeStringField("Notes", c.notes());
        g.writeStringField("Output", c.output());
        g.writeStringField("ServiceID", c.serviceId());
        g.writeStringField("ServiceName", c.serviceName());
        stringArray(g, "ServiceTags", c.serviceTags());
        g.writeStringField("Type", c.type());
        g.writeStringField("Interval", c.interval());
        g.writeStringField("Timeout", c.timeout());
        g.writeNumberField("ExposedPort", 0);
        healthCheckDefinition(g, c);
        g.writeNumberField("CreateIndex", c.createIndex());
        g.writeNumberField("ModifyIndex", c.modifyIndex());
        g.writeEndObject();
    }

    /**
     * Consul's {@code api.AgentService} as {@code /v1/agent/services} shows it: ID, Service, Tags, Meta, Port,
     * Address, Weights, EnableTagOverride, Datacenter ({@code TaggedAddresses} is omitted when empty, as in Consul).
     */
    static void agentService(JsonGenerator g, CatalogService s, String datacenter) throws IOException {
        g.writeStartObject();
        g.writeStringField("ID", s.id());
        g.writeStringField("Service", s.service());
        stringArray(g, "Tags", s.tags());
        stringMap(g, "Meta", s.meta());
        g.writeNumberField("Port", s.port());
        g.writeStringField("Address", s.address());
        weights(g, "Weights", s);
        g.writeBooleanField("EnableTagOverride", s.enableTagOverride());
        g.writeStringField("Datacenter", datacenter);
        g.writeEndObject();
    }

    // ---- catalog -----------------------------------------------------------------------------------------

    /** Consul's {@code structs.Node} ({@code /v1/catalog/nodes} entries, the Node of health entries). */
    static void node(JsonGenerator g, CatalogNode n, String datacenter) throws IOException {
        g.writeStartObject();
        g.writeStringField("ID", n.id());
        g.writeStringField("Node", n.node());
        g.writeStringField("Address", n.address());
        g.writeStringField("Datacenter", datacenter);
        stringMap(g, "TaggedAddresses", n.taggedAddresses());
        stringMap(g, "Meta", n.meta());
        g.writeNumberField("CreateIndex", n.createIndex());
        g.writeNumberField("ModifyIndex", n.modifyIndex());
        g.writeEndObject();
    }

    /**
     * Consul's {@code structs.ServiceNode} ({@code /v1/catalog/service/<s>} entries): node fields, then the
     * flattened service; the indexes are the service's. Connect fields are written empty as Consul does for a
     * typical service.
     */
    static void serviceNode(JsonGenerator g, CatalogNode n, CatalogService s, String datacenter) throws IOException {
        g.writeStartObject();
        g.writeStringField("ID", n.id());
        g.writeStringField("Node", n.node());
        g.writeStringField("Address", n.address());
        g.writeStringField("Datacenter", datacenter);
        stringMap(g, "TaggedAddresses", n.taggedAddresses());
        stringMap(g, "NodeMeta", n.meta());
        g.writeStringField("ServiceKind", "");
        g.writeStringField("ServiceID", s.id());
        g.writeStringField("ServiceName", s.service());
        stringArray(g, "ServiceTags", s.tags());
        g.writeStringField("ServiceAddress", s.address());
        weights(g, "ServiceWeights", s);
        stringMap(g, "ServiceMeta", s.meta());
        g.writeNumberField("ServicePort", s.port());
        g.writeStringField("ServiceSocketPath", "");
        g.writeBooleanField("ServiceEnableTagOverride", s.enableTagOverride());
        emptyProxy(g, "ServiceProxy");
        emptyObject(g, "ServiceConnect");
        g.writeNullField("ServiceLocality");
        g.writeNumberField("CreateIndex", s.createIndex());
        g.writeNumberField("ModifyIndex", s.modifyIndex());
        g.writeEndObject();
    }

    /**
     * Consul's {@code structs.NodeService} (the Service of health entries, the Services of
     * {@code /v1/catalog/node/<n>}); {@code Port} is omitted when 0, as Consul's {@code omitempty} does.
     */
    static void nodeService(JsonGenerator g, CatalogService s) throws IOException {
        g.writeStartObject();
        g.writeStringField("ID", s.id());
        g.writeStringField("Service", s.service());
        stringArray(g, "Tags", s.tags());
        g.writeStringField("Address", s.address());
        stringMap(g, "Meta", s.meta());
        if (s.port() != 0) {
            g.writeNumberField("Port", s.port());
        }
        weights(g, "Weights", s);
        g.writeBooleanField("EnableTagOverride", s.enableTagOverride());
        emptyProxy(g, "Proxy");
        emptyObject(g, "Connect");
        g.writeStringField("PeerName", "");
        g.writeNumberField("CreateIndex", s.createIndex());
        g.writeNumberField("ModifyIndex", s.modifyIndex());
        g.writeEndObject();
    }

    /** Consul's {@code structs.IndexedNodes}' list: {@code [Node, ...]}. */
    static byte[] nodes(List<CatalogNode> nodes, String datacenter) {
        return ConsulJson.write(g -> {
            g.writeStartArray();
            for (CatalogNode n : nodes) {
                node(g, n, datacenter);
            }
            g.writeEndArray();
        });
    }

    /** Consul's {@code structs.Services}: service name to its tags ({@code {"web":["v1"],"db":[]}}). */
    static byte[] services(Map<String, SortedSet<String>> services) {
        return ConsulJson.write(g -> {
            g.writeStartObject();
            for (Map.Entry<String, SortedSet<String>> e : services.entrySet()) {
                stringArray(g, e.getKey(), e.getValue());
            }
            g.writeEndObject();
        });
    }

    /** Consul's {@code structs.ServiceNodes}. */
    static byte[] serviceNodes(List<ServiceOnNode> entries, String datacenter) {
        return ConsulJson.write(g -> {
            g.writeStartArray();
            for (ServiceOnNode e : entries) {
                serviceNode(g, e.node(), e.service(), datacenter);
            }
            g.writeEndArray();
        });
    }

    /** Consul's {@code structs.NodeServices}: {@code {"Node":{...},"Services":{id:{...}}}}, or {@code null}. */
    static byte[] nodeServices(CatalogNode node, List<CatalogService> services, String datacenter) {
        return ConsulJson.write(g -> {
            if (node == null) {
                g.writeNull();
                return;
            }
            g.writeStartObject();
            g.writeFieldName("Node");
            node(g, node, datacenter);
            g.writeObjectFieldStart("Services");
            for (CatalogService s : services) {
                g.writeFieldName(s.id());
                nodeService(g, s);
            }
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    // ---- health ------------------------------------------------------------------------------------------

    /** Consul's {@code structs.CheckServiceNodes}: {@code [{"Node":{...},"Service":{...},"Checks":[...]}]}. */
    static byte[] healthEntries(List<HealthEntry> entries, String datacenter) {
        return ConsulJson.write(g -> {
            g.writeStartArray();
            for (HealthEntry e : entries) {
                g.writeStartObject();
                g.writeFieldName("Node");
                node(g, e.node(), datacenter);
                g.writeFieldName("Service");
                nodeService(g, e.service());
                g.writeArrayFieldStart("Checks");
                for (CatalogCheck c : e.checks()) {
                    healthCheck(g, c);
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    /** Consul's {@code structs.HealthChecks}. */
    static byte[] healthChecks(List<CatalogCheck> checks) {
        return ConsulJson.write(g -> {
            g.writeStartArray();
            for (CatalogCheck c : checks) {
                healthCheck(g, c);
            }
            g.writeEndArray();
        });
    }

    // ---- pieces ------------------------------------------------------------------------------------------

    /**
     * Consul's {@code structs.HealthCheckDefinition}: every field is {@code omitempty}, so {@code {}} unless the
     * check has an interval, timeout or deregister-critical-after.
     */
    private static void healthCheckDefinition(JsonGenerator g, CatalogCheck c) throws IOException {
        g.writeObjectFieldStart("Definition");
        if (!c.interval().isEmpty()) {
            g.writeStringField("Interval", goDuration(c.interval()));
        }
        if (!c.timeout().isEmpty()) {
            g.writeStringField("Timeout", goDuration(c.timeout()));
        }
        if (c.deregisterCriticalAfterMillis() > 0) {
            g.writeStringField("DeregisterCriticalServiceAfter",
                    GoDuration.format(Duration.ofMillis(c.deregisterCriticalAfterMillis())));
        }
        g.writeEndObject();
    }

    /** The definition holds {@code time.Duration}s, which Go prints canonically ("1m" as "1m0s"). */
    private static String goDuration(String text) {
        try {
            return GoDuration.format(GoDuration.parse(text));
        } catch (IllegalArgumentException e) {
            return text;
        }
    }

    /** Consul's {@code structs.Weights}: {@code {"Passing":1,"Warning":1}}. */
    private static void weights(JsonGenerator g, String field, CatalogService s) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeNumberField("Passing", s.weightPassing());
        g.writeNumberField("Warning", s.weightWarning());
        g.writeEndObject();
    }

    /** Consul's {@code structs.ConnectProxyConfig} of a typical (non-proxy) service. */
    private static void emptyProxy(JsonGenerator g, String field) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeStringField("Mode", "");
        emptyObject(g, "MeshGateway");
        emptyObject(g, "Expose");
        g.writeEndObject();
    }

    private static void emptyObject(JsonGenerator g, String field) throws IOException {
        g.writeObjectFieldStart(field);
        g.writeEndObject();
    }

    static void stringArray(JsonGenerator g, String field, Collection<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    static void stringMap(JsonGenerator g, String field, Map<String, String> map) throws IOException {
        g.writeObjectFieldStart(field);
        for (Map.Entry<String, String> e : map.entrySet()) {
            g.writeStringField(e.getKey(), e.getValue());
        }
        g.writeEndObject();
    }
}
