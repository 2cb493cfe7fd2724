package dev.weft.agent.checks;

import dev.weft.kvstore.state.HealthStatus;

/** The outcome of one probe: a status and Consul's output text (already truncated to 4 KiB). */
record CheckResult(HealthStatus status, String output) {
}
