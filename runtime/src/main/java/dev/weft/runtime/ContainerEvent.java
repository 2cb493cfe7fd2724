package dev.weft.runtime;

/**
 * One container event from {@code GET /events} (Type "container"): {@code action} is Docker's Action
 * ("start", "die", "stop", "destroy", "health_status: healthy", ...), {@code timeNanos} its timeNano.
 */
public record ContainerEvent(String containerId, String action, String name, long timeNanos) {
}
