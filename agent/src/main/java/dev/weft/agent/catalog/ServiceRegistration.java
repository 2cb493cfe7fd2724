package dev.weft.agent.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.checks.CheckDefinition;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.Catalogs;

import java.util.List;
import java.util.Map;

/**
 * A service registered with this agent ({@code PUT /v1/agent/service/register}, Consul's
 * AgentServiceRegistration): the catalog record plus the checks the agent runs for it. {@code source} is the JSON
 * as received, kept so the registration survives a restart.
 */
public record ServiceRegistration(CatalogService service, List<CheckDefinition> checks, JsonNode source) {

    public ServiceRegistration {
        checks = List.copyOf(checks);
    }

    /**
     * Parses Consul's AgentServiceRegistration (field names case-insensitive).
     *
     * @throws IllegalArgumentException with a Consul-style message when the definition is invalid
     */
    public static ServiceRegistration parse(JsonNode json, String nodeName) {
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException("Request decode failed: body must be a JSON object");
        }
        String kind = JsonFields.text(json, "Kind");
        if (!kind.isEmpty() && !kind.equals("typical")) {
            throw new IllegalArgumentException("Service Kind '" + kind + "' is not supported by weft");
        }
        if (JsonFields.field(json, "Connect") != null && JsonFields.field(json, "Connect").size() > 0) {
            throw new IllegalArgumentException("Connect is not supported by weft");
        }
        String name = JsonFields.text(json, "Name", "Service");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("Missing service name");
        }
        String id = JsonFields.text(json, "ID");
        if (id.isEmpty()) {
            id = name;
        }
        int passing = 1;
        int warning = 1;
        JsonNode weights = JsonFields.field(json, "Weights");
        if (weights != null) {
            passing = JsonFields.integer(weights, 1, "Passing");
            warning = JsonFields.integer(weights, 1, "Warning");
        }
        Map<String, String> meta = JsonFields.stringMap(json, "Meta");
        List<String> tags = JsonFields.strings(json, "Tags");
        CatalogService svc = new CatalogService(nodeName, id, name, tags, JsonFields.text(json, "Address"),
                JsonFields.integer(json, 0, "Port"), meta, passing, warning,
                JsonFields.bool(json, "EnableTagOverride"), 0, 0);
        String problem = Catalogs.validate(svc);
        if (problem != null) {
            throw new IllegalArgumentException("Invalid service: " + problem);
        }
        List<CheckDefinition> checks = CheckDefinition.parseServiceChecks(json, id, name);
        return new ServiceRegistration(svc, checks, json);
    }
}
