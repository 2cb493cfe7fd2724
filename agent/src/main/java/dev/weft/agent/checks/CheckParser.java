package dev.weft.agent.checks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.checks.CheckDefinition.Kind;
import dev.weft.agent.http.GoDuration;
import dev.weft.kvstore.state.HealthStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Consul's check JSON → {@link CheckDefinition}. Field names are matched as Go's encoding/json does
 * (case-insensitively), and Consul's snake_case aliases ({@code service_id}, {@code tls_skip_verify},
 * {@code deregister_critical_service_after}, …) are accepted by ignoring underscores. Unknown fields are ignored.
 */
final class CheckParser {
    static final String INTERVAL_REQUIRED = "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or Docker checks";
    static final String TTL_REQUIRED = "TTL must be > 0 for TTL checks";
    static final String ONE_KIND = "Check must be one of HTTP, TCP or TTL";
    static final String BAD_STATUS = "Status must be one of passing, warning or critical";

    /** Check kinds Consul has and weft does not run: normalized field name → what the error calls it. */
    private static final Map<String, String> UNSUPPORTED = unsupported();

    /** Fields weft does not implement; refused unless they hold their zero value. */
    private static final List<String> UNSUPPORTED_OPTIONS = List.of("SuccessBeforePassing",
            "FailuresBeforeWarning", "FailuresBeforeCritical", "DisableRedirects", "TLSServerName");

    private CheckParser() {
    }

    private static Map<String, String> unsupported() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("args", "ScriptArgs/Args");
        m.put("scriptargs", "ScriptArgs/Args");
        m.put("script", "ScriptArgs/Args");
        m.put("dockercontainerid", "Docker");
        m.put("grpc", "GRPC");
        m.put("h2ping", "H2PING");
        m.put("udp", "UDP");
        m.put("aliasnode", "Alias");
        m.put("aliasservice", "Alias");
        m.put("osservice", "OSService");
        return m;
    }

    static CheckDefinition agentCheck(JsonNode json) {
        Fields f = Fields.of(json, "check definition");
        String name = f.text("Name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("Missing check name");
        }
        String id = f.text("ID");
        if (id.isEmpty()) {
            id = f.text("CheckID");
        }
        if (id.isEmpty()) {
            id = name;
        }
        return build(f, id, name, f.text("ServiceID"));
    }

    static List<CheckDefinition> serviceChecks(JsonNode serviceJson, String serviceId, String serviceName) {
        if (serviceJson == null || !serviceJson.isObject()) {
            throw new IllegalArgumentException("Request decode failed: service definition must be a JSON object");
        }
        Fields svc = Fields.of(serviceJson, "service definition");
        List<Fields> defs = new ArrayList<>();
        JsonNode one = svc.get("Check");
        if (one != null) {
            Fields f = Fields.of(one, "Check");
            if (!f.isEmpty()) {
                defs.add(f);
            }
        }
        JsonNode many = svc.get("Checks");
        if (many != null) {
            if (!many.isArray()) {
                throw new IllegalArgumentException("Request decode failed: Checks must be an array");
            }
            for (JsonNode c : many) {
                if (c == null || c.isNull()) {
                    continue;
                }
                defs.add(Fields.of(c, "Checks"));
            }
        }
        List<CheckDefinition> out = new ArrayList<>(defs.size());
        for (int i = 0; i < defs.size(); i++) {
            Fields f = defs.get(i);
            String id = f.text("CheckID");
            if (id.isEmpty()) {
                id = f.text("ID");
            }
            if (id.isEmpty()) {
                id = "service:" + serviceId + (defs.size() > 1 ? ":" + (i + 1) : "");
            }
            String name = f.text("Name");
            if (name.isEmpty()) {
                name = "Service '" + serviceName + "' check";
            }
            out.add(build(f, id, name, serviceId));
        }
        return List.copyOf(out);
    }

    private static CheckDefinition build(Fields f, String id, String name, String serviceId) {
        for (Map.Entry<String, String> u : UNSUPPORTED.entrySet()) {
            if (f.present(u.getKey())) {
                throw new IllegalArgumentException(u.getValue() + " checks are not supported by weft");
            }
        }
        for (String option : UNSUPPORTED_OPTIONS) {
            if (f.present(option)) {
                throw new IllegalArgumentException(option + " is not supported by weft");
            }
        }
        HealthStatus status = HealthStatus.CRITICAL;
        String statusText = f.text("Status");
        if (!statusText.isEmpty()) {
            status = HealthStatus.parse(statusText);
            if (status == null) {
                throw new IllegalArgumentException(BAD_STATUS);
            }
        }
        String http = f.text("HTTP");
        String tcp = f.text("TCP");
        Duration ttl = f.duration("TTL");
        Duration interval = f.duration("Interval");
        Duration timeout = f.duration("Timeout");
        Duration deregister = f.duration("DeregisterCriticalServiceAfter");
        boolean hasTtl = f.present("TTL");

        if (interval.compareTo(Duration.ZERO) > 0 && ttl.compareTo(Duration.ZERO) > 0) {
            throw new IllegalArgumentException("Interval and TTL cannot both be specified");
        }
        int kinds = (http.isEmpty() ? 0 : 1) + (tcp.isEmpty() ? 0 : 1) + (hasTtl ? 1 : 0);
        if (kinds != 1) {
            throw new IllegalArgumentException(ONE_KIND);
        }
        Kind kind = !http.isEmpty() ? Kind.HTTP : !tcp.isEmpty() ? Kind.TCP : Kind.TTL;
        if (kind != Kind.TTL && interval.compareTo(Duration.ZERO) <= 0) {
            throw new IllegalArgumentException(INTERVAL_REQUIRED);
        }
        if (kind == Kind.TTL && ttl.compareTo(Duration.ZERO) <= 0) {
            throw new IllegalArgumentException(TTL_REQUIRED);
        }
        if (timeout.compareTo(Duration.ZERO) <= 0) {
            timeout = CheckDefinition.DEFAULT_TIMEOUT; // Consul: a timeout <= 0 means the default
        }
        if (deregister.isNegative()) {
            deregister = Duration.ZERO;
        }
        String method = "";
        Map<String, List<String>> header = Map.of();
        String body = "";
        boolean skipVerify = false;
        if (kind == Kind.HTTP) {
            checkHttpUrl(http);
            method = f.text("Method");
            if (method.isEmpty()) {
                method = "GET";
            }
            checkToken("Method", method);
            header = f.header("Header");
            body = f.text("Body");
            skipVerify = f.bool("TLSSkipVerify");
        } else if (kind == Kind.TCP) {
            checkHostPort(tcp);
        }
        if (kind == Kind.TTL) {
            interval = Duration.ZERO;
            timeout = Duration.ZERO;
        } else {
            ttl = Duration.ZERO;
        }
        return new CheckDefinition(id, name, serviceId, f.text("Notes"), kind, http, method, header, body,
                skipVerify, tcp, ttl, interval, timeout, status, deregister);
    }

    /** Refuses what Go's http.NewRequest + Client.Do would fail on at every run. */
    static void checkHttpUrl(String url) {
        HttpTarget.parse(url);
    }

    /** "host:port" with a port in 1..65535; IPv6 hosts in brackets ("[::1]:80"). */
    static void checkHostPort(String hostPort) {
        if (HostPort.parse(hostPort) == null) {
            throw new IllegalArgumentException("TCP must be host:port, not \"" + hostPort + "\"");
        }
    }

    private static void checkToken(String field, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean ok = c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0;
            if (!ok) {
                throw new IllegalArgumentException("invalid " + field + " \"" + value + "\"");
            }
        }
    }

    /** A JSON object's fields by normalized name (lower case, no underscores), as Consul's decoder matches them. */
    private static final class Fields {
        private final Map<String, JsonNode> byName = new LinkedHashMap<>();

        static Fields of(JsonNode json, String what) {
            if (json == null || !json.isObject()) {
                throw new IllegalArgumentException("Request decode failed: " + what + " must be a JSON object");
            }
            Fields f = new Fields();
            for (Map.Entry<String, JsonNode> e : json.properties()) {
                if (!e.getValue().isNull()) {
                    f.byName.put(normalize(e.getKey()), e.getValue());
                }
            }
            return f;
        }

        static String normalize(String key) {
            return key.replace("_", "").toLowerCase(Locale.ROOT);
        }

        JsonNode get(String field) {
            return byName.get(normalize(field));
        }

        /** Consul's CheckType.Empty(): every field holds its zero value. */
        boolean isEmpty() {
            for (String k : byName.keySet()) {
                if (present(k)) {
                    return false;
                }
            }
            return true;
        }

        /** Set to something other than its zero value ("", 0, false, [], {}). */
        boolean present(String field) {
            JsonNode n = get(field);
            if (n == null) {
                return false;
            }
            if (n.isTextual()) {
                return !n.asText().isEmpty();
            }
            if (n.isNumber()) {
                return n.doubleValue() != 0;
            }
            if (n.isBoolean()) {
                return n.booleanValue();
            }
            if (n.isContainerNode()) {
                return n.size() > 0;
            }
            return true;
        }

        String text(String field) {
            JsonNode n = get(field);
            if (n == null) {
                return "";
            }
            if (!n.isTextual()) {
                throw new IllegalArgumentException("Request decode failed: " + field + " must be a string");
            }
            return n.asText();
        }

        boolean bool(String field) {
            JsonNode n = get(field);
            if (n == null) {
                return false;
            }
            if (!n.isBoolean()) {
                throw new IllegalArgumentException("Request decode failed: " + field + " must be a boolean");
            }
            return n.booleanValue();
        }

        /** A Go duration string ("10s"), or a number of nanoseconds as Consul also accepts; absent = zero. */
        Duration duration(String field) {
            JsonNode n = get(field);
            if (n == null) {
                return Duration.ZERO;
            }
            if (n.isNumber()) {
                return Duration.ofNanos(n.longValue());
            }
            if (!n.isTextual()) {
                throw new IllegalArgumentException("Request decode failed: " + field + " must be a duration");
            }
            if (n.asText().isEmpty()) {
                return Duration.ZERO;
            }
            try {
                return GoDuration.parse(n.asText());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Invalid " + field + ": " + e.getMessage());
            }
        }

        /** Consul's {@code map[string][]string}; a single string value is taken as a one-element list. */
        Map<String, List<String>> header(String field) {
            JsonNode n = get(field);
            if (n == null) {
                return Map.of();
            }
            if (!n.isObject()) {
                throw new IllegalArgumentException("Request decode failed: " + field
                        + " must be an object of string arrays");
            }
            Map<String, List<String>> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                checkToken(field + " name", e.getKey());
                List<String> values = new ArrayList<>();
                JsonNode v = e.getValue();
                if (v.isTextual()) {
                    values.add(v.asText());
                } else if (v.isArray()) {
                    for (JsonNode s : v) {
                        if (!s.isTextual()) {
                            throw new IllegalArgumentException("Request decode failed: " + field + " values must"
                                    + " be strings");
                        }
                        values.add(s.asText());
                    }
                } else if (!v.isNull()) {
                    throw new IllegalArgumentException("Request decode failed: " + field
                            + " must be an object of string arrays");
                }
                for (String s : values) {
                    if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
                        throw new IllegalArgumentException("invalid " + field + " value for " + e.getKey());
                    }
                }
                out.put(e.getKey(), values);
            }
            return out;
        }
    }
}
