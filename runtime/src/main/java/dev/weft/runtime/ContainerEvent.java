package dev.weft.runtime;

import java.util.OptionalInt;

/**
 * One container event from {@code GET /events} (Type "container"): {@code action} is Docker's Action
 * ("start", "die", "stop", "destroy", "health_status: healthy", ...), {@code timeNanos} its timeNano,
 * {@code exitCode} the {@code exitCode} attribute of a {@code die} event (null when absent).
 */
public record ContainerEvent(String containerId, String action, String name, long timeNanos, Integer exitCode) {

    public ContainerEvent(String containerId, String action, String name, long timeNanos) {
        this(containerId, action, name, timeNanos, null);
    }

    /** The exit code of a {@code die} event, when Docker reported one. */
    public OptionalInt exit() {
        return exitCode == null ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }
}
