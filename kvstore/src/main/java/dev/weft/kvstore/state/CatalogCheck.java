package dev.weft.kvstore.state;

import java.util.List;
import java.util.Objects;

/**
 * One health check of a node ({@code serviceId} empty) or of a service instance on it. {@code serviceName} and
 * {@code serviceTags} are filled from the service when the check is applied. {@code type}, {@code interval},
 * {@code timeout} describe the check for display (Consul's fields); {@code deregisterCriticalAfterMillis} &gt; 0
 * removes the service once this check has been critical that long. Indexes are 0 inside commands.
 */
public record CatalogCheck(String node, String checkId, String name, HealthStatus status, String notes,
                           String output, String serviceId, String serviceName, List<String> serviceTags,
                           String type, String interval, String timeout, long deregisterCriticalAfterMillis,
                           long createIndex, long modifyIndex) {
    public CatalogCheck {
        Objects.requireNonNull(node);
        Objects.requireNonNull(checkId);
        name = name == null ? "" : name;
        status = status == null ? HealthStatus.CRITICAL : status;
        notes = notes == null ? "" : notes;
        output = output == null ? "" : output;
        serviceId = serviceId == null ? "" : serviceId;
        serviceName = serviceName == null ? "" : serviceName;
        serviceTags = serviceTags == null ? List.of() : List.copyOf(serviceTags);
        type = type == null ? "" : type;
        interval = interval == null ? "" : interval;
        timeout = timeout == null ? "" : timeout;
    }

    public boolean isNodeCheck() {
        return serviceId.isEmpty();
    }

    public CatalogCheck withIndexes(long create, long modify) {
        return new CatalogCheck(node, checkId, name, status, notes, output, serviceId, serviceName, serviceTags,
                type, interval, timeout, deregisterCriticalAfterMillis, create, modify);
    }

    public CatalogCheck withStatus(HealthStatus newStatus, String newOutput) {
        return new CatalogCheck(node, checkId, name, newStatus, notes, newOutput, serviceId, serviceName,
                serviceTags, type, interval, timeout, deregisterCriticalAfterMillis, createIndex, modifyIndex);
    }

    public CatalogCheck withService(String newServiceName, List<String> newServiceTags) {
        return new CatalogCheck(node, checkId, name, status, notes, output, serviceId, newServiceName,
                newServiceTags, type, interval, timeout, deregisterCriticalAfterMillis, createIndex, modifyIndex);
    }

    public CatalogCheck withNode(String newNode) {
        return new CatalogCheck(newNode, checkId, name, status, notes, output, serviceId, serviceName, serviceTags,
                type, interval, timeout, deregisterCriticalAfterMillis, createIndex, modifyIndex);
    }

    public boolean sameContent(CatalogCheck o) {
        return o != null && withIndexes(0, 0).equals(o.withIndexes(0, 0));
    }
}
