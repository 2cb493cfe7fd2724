package dev.weft.registrator;

import java.util.Set;

/**
 * Where the registrator writes: this agent's local services (implemented by the agent over its local state).
 * Called from the registrator's one thread only. Any method may throw to report a failed write; the registrator then
 * runs a full resync after a backoff, which repeats whatever is still missing.
 */
public interface ServiceSink {

    /**
     * Registers or replaces {@code s.registration()} (Consul's AgentServiceRegistration, checks included).
     * Idempotent: re-registering an identical definition writes nothing and keeps the checks' statuses.
     *
     * @throws IllegalArgumentException when the definition is refused (invalid): not retried until it changes
     * @throws RuntimeException         for any other failure (retried)
     */
    void register(RegisteredService s);

    /** Removes the service and its checks; removing one that does not exist is not an error. */
    void deregister(String serviceId);

    /**
     * IDs of this node's services whose Meta has {@code external-source: docker}, as the agent knows them now
     * (including those registered before a restart of the agent).
     */
    Set<String> registeredIds();

    /**
     * Sets a TTL check's status and output, as {@code PUT /v1/agent/check/update/<checkId>}, and restarts its TTL
     * (even when nothing changed: the registrator re-pushes every resync to keep the check alive).
     *
     * @param status "passing", "warning" or "critical"
     */
    void updateHealth(String checkId, String status, String output);
}
