package dev.weft.registrator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Objects;

/**
 * One service derived from one port of one container.
 *
 * @param id           the service ID (also {@code registration.ID})
 * @param registration Consul's AgentServiceRegistration as sent to {@code PUT /v1/agent/service/register}: {@code ID},
 *                     {@code Name}, {@code Tags}, {@code Address}, {@code Port}, {@code Meta} (with
 *                     {@code external-source: docker} and {@code container-id}) and {@code Checks} (each with an
 *                     explicit {@code CheckID}); a copy is returned on every access
 * @param containerId  the full ID of the container it comes from
 * @param health       the Docker HEALTHCHECK passthrough check and its current status, or null when the
 *                     container has no HEALTHCHECK
 */
public record RegisteredService(String id, ObjectNode registration, String containerId, DockerHealth health) {

    /** The meta key and value that mark a service as the registrator's. */
    public static final String EXTERNAL_SOURCE_KEY = "external-source";
    public static final String EXTERNAL_SOURCE = "docker";
    public static final String CONTAINER_ID_KEY = "container-id";

    /**
     * The state of a Docker HEALTHCHECK as a TTL check's status.
     *
     * @param checkId {@code service:<service-id>:docker-health}
     * @param status  "passing", "warning" or "critical"
     * @param output  the health check's last output (at most 4 KiB)
     */
    public record DockerHealth(String checkId, String status, String output) {
        public DockerHealth {
            Objects.requireNonNull(checkId);
            Objects.requireNonNull(status);
            output = output == null ? "" : output;
        }
    }

    public RegisteredService {
        Objects.requireNonNull(id);
        Objects.requireNonNull(containerId);
        registration = registration.deepCopy();
    }

    @Override
    public ObjectNode registration() {
        return registration.deepCopy();
    }

    /** The service name ({@code registration.Name}). */
    public String name() {
        return registration.path("Name").asText();
    }

    /** The registered address ({@code registration.Address}). */
    public String address() {
        return registration.path("Address").asText();
    }

    /** The registered port ({@code registration.Port}). */
    public int port() {
        return registration.path("Port").asInt();
    }

    /**
     * True when both register the same thing, ignoring the Docker health check's initial {@code Status} (that
     * status is pushed with {@link ServiceSink#updateHealth}, a change of it is no reason to re-register).
     */
    public boolean sameDefinition(RegisteredService other) {
        return other != null && id.equals(other.id) && containerId.equals(other.containerId)
                && withoutHealthStatus().equals(other.withoutHealthStatus());
    }

    private JsonNode withoutHealthStatus() {
        if (health == null) {
            return registration;
        }
        ObjectNode copy = registration.deepCopy();
        JsonNode checks = copy.get("Checks");
        if (checks != null) {
            for (JsonNode c : checks) {
                if (c instanceof ObjectNode o && health.checkId().equals(o.path("CheckID").asText())) {
                    o.remove("Status");
                }
            }
        }
        return copy;
    }
}
