package dev.weft.kvstore.state;

import java.util.List;
import java.util.Objects;

/**
 * Every change to the replicated state is one of these. Commands are validated before they are proposed
 * (see {@link Limits}); anything that depends on time or randomness (now, session IDs) is decided by the
 * proposer and carried inside the command so that {@link KvState#apply} stays deterministic.
 *
 * <p>Index parameters named {@code cas} use {@link #NO_CAS} for "no compare-and-set".
 */
public sealed interface Command {

    long NO_CAS = -1L;

    /** PUT /v1/kv/key[?cas=N]. Result: {@link Result.Bool}. */
    record KvSet(String key, byte[] value, long flags, long cas) implements Command {
        public KvSet {
            Objects.requireNonNull(key);
            value = value == null ? new byte[0] : value;
        }
    }

    /** DELETE /v1/kv/key[?recurse][?cas=N]. Result: {@link Result.Bool}. */
    record KvDelete(String key, boolean recurse, long cas) implements Command {
        public KvDelete {
            Objects.requireNonNull(key);
        }
    }

    /** PUT /v1/kv/key?acquire=session. Result: {@link Result.Bool}. */
    record KvAcquire(String key, byte[] value, long flags, String session, long nowMillis) implements Command {
        public KvAcquire {
            Objects.requireNonNull(key);
            Objects.requireNonNull(session);
            value = value == null ? new byte[0] : value;
        }
    }

    /** PUT /v1/kv/key?release=session. Result: {@link Result.Bool}. */
    record KvRelease(String key, byte[] value, long flags, String session) implements Command {
        public KvRelease {
            Objects.requireNonNull(key);
            Objects.requireNonNull(session);
            value = value == null ? new byte[0] : value;
        }
    }

    /** PUT /v1/txn: all operations or none. Result: {@link Result.Txn}. */
    record Txn(List<TxnOp> ops, long nowMillis) implements Command {
        public Txn {
            ops = List.copyOf(ops);
        }
    }

    /** PUT /v1/session/create; the ID is chosen by the proposer. Result: {@link Result.SessionValue}. */
    record SessionCreate(String id, String name, String node, long ttlMillis, long lockDelayMillis,
                         Session.Behavior behavior, long nowMillis) implements Command {
        public SessionCreate {
            Objects.requireNonNull(id);
            name = name == null ? "" : name;
            node = node == null ? "" : node;
            behavior = behavior == null ? Session.Behavior.RELEASE : behavior;
        }
    }

    /** PUT /v1/session/renew/id: moves the deadline to now + TTL. Result: {@link Result.SessionValue} (null if gone). */
    record SessionRenew(String id, long nowMillis) implements Command {
    }

    /** PUT /v1/session/destroy/id. Result: {@link Result.Bool}. */
    record SessionDestroy(String id, long nowMillis) implements Command {
    }

    /**
     * Proposed by the leader when it sees a session past its deadline. Applied only if the session's deadline
     * is still at or before {@code nowMillis} (a renew may have won the race). Result: {@link Result.Bool}.
     */
    record SessionExpire(String id, long nowMillis) implements Command {
    }

    /** Replaces the whole state with a snapshot produced by {@link StateCodec#write}. Result: {@link Result.Bool}. */
    record Restore(byte[] snapshot) implements Command {
    }

    /**
     * Several independent commands proposed together as one Raft entry (group commit). They are applied in
     * order at the same log index, each with its own result, exactly as if proposed one by one; a batch never
     * contains another batch. Result: {@link Result.Batch}.
     */
    record Batch(List<Command> commands) implements Command {
        public Batch {
            commands = List.copyOf(commands);
        }
    }

    /** Drops KV tombstones whose delete index is at or below {@code upToIndex}. Result: {@link Result.Bool}. */
    record ReapTombstones(long upToIndex) implements Command {
    }

    /**
     * PUT /v1/catalog/register, and every agent's anti-entropy: upserts the node (unless {@code skipNodeUpdate} and
     * it exists), then the service if any, then the checks. Records equal to what is stored change nothing.
     * Result: {@link Result.Bool} or {@link Result.Invalid}.
     */
    record CatalogRegister(CatalogNode node, CatalogService service, List<CatalogCheck> checks,
                           boolean skipNodeUpdate) implements Command {
        public CatalogRegister {
            Objects.requireNonNull(node);
            checks = checks == null ? List.of() : List.copyOf(checks);
        }
    }

    /**
     * PUT /v1/catalog/deregister: removes one service (and its checks) when {@code serviceId} is set, else one
     * check when {@code checkId} is set, else the whole node. Unknown entries are not an error. Result: Bool.
     */
    record CatalogDeregister(String node, String serviceId, String checkId) implements Command {
    }

    /** A check's new status and output. Result: {@link Result.Bool}, false when the check does not exist. */
    record CheckStatus(String node, String checkId, HealthStatus status, String output) implements Command {
        public CheckStatus {
            Objects.requireNonNull(node);
            Objects.requireNonNull(checkId);
            Objects.requireNonNull(status);
            output = output == null ? "" : output;
        }
    }

    /**
     * An agent's periodic sign of life: counts a heartbeat for the node and turns its {@code serfHealth} check
     * passing if it was not. Result: {@link Result.Bool}, false when the node is not in the catalog.
     */
    record NodeHeartbeat(String node) implements Command {
        public NodeHeartbeat {
            Objects.requireNonNull(node);
        }
    }

    /**
     * PUT /v1/acl/bootstrap: once only. Creates the global-management policy, the first management token and the
     * anonymous token (no policies). Result: {@link Result.Bool}, false when ACLs were already bootstrapped.
     */
    record AclBootstrap(AclPolicy management, AclToken token, AclToken anonymous) implements Command {
        public AclBootstrap {
            Objects.requireNonNull(management);
            Objects.requireNonNull(token);
        }
    }

    /** Creates or replaces a policy (by ID). Result: Bool, or Invalid when the name is taken. */
    record AclPolicySet(AclPolicy policy) implements Command {
        public AclPolicySet {
            Objects.requireNonNull(policy);
        }
    }

    /** Deletes a policy. Result: Bool (false when unknown), Invalid for the built-in management policy. */
    record AclPolicyDelete(String id) implements Command {
        public AclPolicyDelete {
            Objects.requireNonNull(id);
        }
    }

    /** Creates or replaces a token (by AccessorID); carries only the secret's hash. Result: Bool or Invalid. */
    record AclTokenSet(AclToken token) implements Command {
        public AclTokenSet {
            Objects.requireNonNull(token);
        }
    }

    /** Deletes a token. Result: Bool (false when unknown), Invalid for the anonymous token. */
    record AclTokenDelete(String accessorId) implements Command {
        public AclTokenDelete {
            Objects.requireNonNull(accessorId);
        }
    }
}
