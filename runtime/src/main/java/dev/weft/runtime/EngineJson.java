package dev.weft.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Engine API's JSON (Docker's and Podman's compat shapes) turned into weft's records: container inspect,
 * network inspect, events, error bodies. Pure functions; missing or null fields become empty values.
 */
final class EngineJson {
    private EngineJson() {
    }

    static Container container(JsonNode n) {
        JsonNode config = n.path("Config");
        JsonNode state = n.path("State");
        JsonNode health = state.path("Health");
        String healthStatus = text(health, "Status");
        String healthOutput = "";
        JsonNode log = health.path("Log");
        if (log.isArray() && !log.isEmpty()) {
            healthOutput = text(log.get(log.size() - 1), "Output");
        }
        Map<String, Container.NetworkAttachment> networks = new LinkedHashMap<>();
        fields(n.path("NetworkSettings").path("Networks")).forEach((name, net) -> networks.put(name,
                new Container.NetworkAttachment(text(net, "NetworkID"), text(net, "IPAddress"),
                        text(net, "GlobalIPv6Address"))));
        List<Container.PortSpec> exposed = new ArrayList<>();
        fields(config.path("ExposedPorts")).keySet().forEach(p -> exposed.add(Container.PortSpec.parse(p)));
        exposed.sort(PORT_ORDER);
        List<Container.PublishedPort> published = new ArrayList<>();
        fields(n.path("NetworkSettings").path("Ports")).forEach((port, bindings) -> {
            if (bindings.isArray()) {
                for (JsonNode b : bindings) {
                    String hostPort = text(b, "HostPort");
                    if (!hostPort.isEmpty()) {
                        published.add(new Container.PublishedPort(Container.PortSpec.parse(port), text(b, "HostIp"),
                                Integer.parseInt(hostPort)));
                    }
                }
            }
        });
        published.sort(Comparator.comparing(Container.PublishedPort::container, PORT_ORDER)
                .thenComparing(Container.PublishedPort::hostIp).thenComparingInt(Container.PublishedPort::hostPort));
        String name = text(n, "Name");
        return new Container(text(n, "Id"), name.startsWith("/") ? name.substring(1) : name, text(config, "Image"),
                state.path("Running").asBoolean(false), healthStatus.isEmpty() ? null : healthStatus, healthOutput,
                env(config.path("Env")), strings(config.path("Labels")), text(n.path("HostConfig"), "NetworkMode"),
                networks, exposed, published);
    }

    static Network network(JsonNode n) {
        List<Network.Subnet> subnets = new ArrayList<>();
        JsonNode config = n.path("IPAM").path("Config");
        if (config.isArray()) {
            for (JsonNode c : config) {
                subnets.add(new Network.Subnet(text(c, "Subnet"), text(c, "Gateway")));
            }
        }
        return new Network(text(n, "Id"), text(n, "Name"), text(n, "Driver"), text(n, "Scope"), subnets,
                strings(n.path("Labels")), strings(n.path("Options")));
    }

    /**
     * A container event, or empty for other types. Reads the current fields (Type, Action, Actor.ID,
     * Actor.Attributes.name, timeNano) and falls back to the legacy ones (status, id, time).
     */
    static Optional<ContainerEvent> event(JsonNode n) {
        String type = text(n, "Type");
        if (!type.isEmpty() && !type.equals("container")) {
            return Optional.empty();
        }
        JsonNode actor = n.path("Actor");
        String id = text(actor, "ID");
        if (id.isEmpty()) {
            id = text(n, "id");
        }
        String action = text(n, "Action");
        if (action.isEmpty()) {
            action = text(n, "status");
        }
        if (id.isEmpty() || action.isEmpty()) {
            return Optional.empty();
        }
        long timeNanos = n.path("timeNano").asLong(0);
        if (timeNanos == 0) {
            timeNanos = n.path("time").asLong(0) * 1_000_000_000L;
        }
        JsonNode attributes = actor.path("Attributes");
        String exit = text(attributes, "exitCode");
        Integer exitCode = null;
        if (!exit.isEmpty()) {
            try {
                exitCode = Integer.valueOf(exit);
            } catch (NumberFormatException e) {
                exitCode = null; // not a number: unknown
            }
        }
        return Optional.of(new ContainerEvent(id, action, text(attributes, "name"), timeNanos, exitCode));
    }

    /** Docker's error body {"message": "..."}, else the body's text (abbreviated). */
    static String errorMessage(String body, ObjectMapper json) {
        try {
            JsonNode n = json.readTree(body);
            if (n != null && n.hasNonNull("message")) {
                return n.get("message").asText();
            }
            if (n != null && n.hasNonNull("cause")) {
                return n.get("cause").asText();
            }
        } catch (Exception notJson) {
            // fall through to the raw text
        }
        String t = body.strip();
        return t.length() > 300 ? t.substring(0, 300) + "…" : t;
    }

    static final Comparator<Container.PortSpec> PORT_ORDER =
            Comparator.comparingInt(Container.PortSpec::port).thenComparing(Container.PortSpec::protocol);

    static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isNull() || v.isMissingNode() ? "" : v.asText("");
    }

    private static Map<String, JsonNode> fields(JsonNode n) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (n.isObject()) {
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    private static Map<String, String> strings(JsonNode n) {
        Map<String, String> out = new LinkedHashMap<>();
        fields(n).forEach((k, v) -> out.put(k, v.isNull() ? "" : v.asText("")));
        return out;
    }

    private static Map<String, String> env(JsonNode n) {
        Map<String, String> out = new LinkedHashMap<>();
        if (n.isArray()) {
            for (JsonNode e : n) {
                String s = e.asText("");
                int eq = s.indexOf('=');
                if (eq < 0) {
                    out.put(s, "");
                } else {
                    out.put(s.substring(0, eq), s.substring(eq + 1));
                }
            }
        }
        return out;
    }
}
