package dev.weft.agent.checks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.http.GoDuration;
import dev.weft.kvstore.state.HealthStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A health check as registered with this agent (Consul's CheckDefinition / CheckType): what to probe, how often,
 * and the status it starts in. Built by {@link #parseAgentCheck} and {@link #parseServiceChecks}; run by
 * {@link HealthChecks}.
 *
 * <p>Fields that do not apply to the kind are empty: {@code http}, {@code method}, {@code header}, {@code body}
 * and {@code tlsSkipVerify} for HTTP; {@code tcp} ("host:port") for TCP; {@code ttl} for TTL. {@code interval} and
 * {@code timeout} are {@link Duration#ZERO} for TTL checks. The interval is kept as given; {@link HealthChecks}
 * raises it to its minimum (1 s, as Consul) when it runs the check.
 *
 * @param serviceId                      "" for a node-level check
 * @param deregisterCriticalServiceAfter {@link Duration#ZERO} = never
 */
public record CheckDefinition(String checkId, String name, String serviceId, String notes, Kind kind,
                              String http, String method, Map<String, List<String>> header, String body,
                              boolean tlsSkipVerify, String tcp, Duration ttl, Duration interval, Duration timeout,
                              HealthStatus status, Duration deregisterCriticalServiceAfter) {

    /** The kinds of check weft runs. */
    public enum Kind { HTTP, TCP, TTL }

    /** Consul's default check timeout for HTTP and TCP checks. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public CheckDefinition {
        checkId = Objects.requireNonNullElse(checkId, "");
        name = Objects.requireNonNullElse(name, "");
        serviceId = Objects.requireNonNullElse(serviceId, "");
        notes = Objects.requireNonNullElse(notes, "");
        http = Objects.requireNonNullElse(http, "");
        method = Objects.requireNonNullElse(method, "");
        body = Objects.requireNonNullElse(body, "");
        tcp = Objects.requireNonNullElse(tcp, "");
        ttl = Objects.requireNonNullElse(ttl, Duration.ZERO);
        interval = Objects.requireNonNullElse(interval, Duration.ZERO);
        timeout = Objects.requireNonNullElse(timeout, Duration.ZERO);
        status = Objects.requireNonNullElse(status, HealthStatus.CRITICAL);
        deregisterCriticalServiceAfter = Objects.requireNonNullElse(deregisterCriticalServiceAfter, Duration.ZERO);
        header = copyHeader(header);
        Objects.requireNonNull(kind, "kind");
        if (checkId.isEmpty()) {
            throw new IllegalArgumentException("Missing check ID");
        }
        if (name.isEmpty()) {
            throw new IllegalArgumentException("Missing check name");
        }
        switch (kind) {
            case HTTP, TCP -> {
                if (kind == Kind.HTTP ? http.isEmpty() : tcp.isEmpty()) {
                    throw new IllegalArgumentException(kind + " check without " + kind + " target");
                }
                if (interval.isNegative() || interval.isZero()) {
                    throw new IllegalArgumentException(CheckParser.INTERVAL_REQUIRED);
                }
                if (timeout.isNegative() || timeout.isZero()) {
                    throw new IllegalArgumentException("Timeout must be > 0");
                }
                if (kind == Kind.HTTP && method.isEmpty()) {
                    throw new IllegalArgumentException("Method must not be empty");
                }
            }
            case TTL -> {
                if (ttl.isNegative() || ttl.isZero()) {
                    throw new IllegalArgumentException(CheckParser.TTL_REQUIRED);
                }
            }
        }
    }

    /**
     * Parses the body of {@code PUT /v1/agent/check/register} (Consul's CheckDefinition; field names
     * case-insensitive, snake_case aliases accepted). The ID defaults to the name.
     *
     * @throws IllegalArgumentException with a Consul-like message when the definition is invalid or uses a check
     *                                  kind weft does not run
     */
    public static CheckDefinition parseAgentCheck(JsonNode json) {
        return CheckParser.agentCheck(json);
    }

    /**
     * Parses the {@code Check} (one object) and {@code Checks} (array) of {@code PUT /v1/agent/service/register}.
     * IDs default to {@code service:<serviceId>}, or {@code service:<serviceId>:<n>} (1-based, counting
     * {@code Check} first) when there are several; names default to {@code Service '<serviceName>' check}; the
     * ServiceID is always the service's. An empty {@code Check} object is ignored, as in Consul.
     *
     * @throws IllegalArgumentException as {@link #parseAgentCheck}
     */
    public static List<CheckDefinition> parseServiceChecks(JsonNode serviceJson, String serviceId,
                                                           String serviceName) {
        return CheckParser.serviceChecks(serviceJson, serviceId, serviceName);
    }

    /** Consul's check Type: "http", "tcp" or "ttl". */
    public String type() {
        return switch (kind) {
            case HTTP -> "http";
            case TCP -> "tcp";
            case TTL -> "ttl";
        };
    }

    /** The interval as Go prints a duration ("10s", "1m30s"); "" for TTL checks. */
    public String intervalText() {
        return interval.isZero() ? "" : GoDuration.format(interval);
    }

    /** The timeout as Go prints a duration ("10s" unless set); "" for TTL checks. */
    public String timeoutText() {
        return timeout.isZero() ? "" : GoDuration.format(timeout);
    }

    private static Map<String, List<String>> copyHeader(Map<String, List<String>> header) {
        if (header == null || header.isEmpty()) {
            return Map.of();
        }
        Map<String, List<String>> copy = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : header.entrySet()) {
            List<String> values = new ArrayList<>();
            if (e.getValue() != null) {
                for (String v : e.getValue()) {
                    values.add(Objects.requireNonNullElse(v, ""));
                }
            }
            copy.put(Objects.requireNonNull(e.getKey(), "header name"), List.copyOf(values));
        }
        return Collections.unmodifiableMap(copy);
    }
}
