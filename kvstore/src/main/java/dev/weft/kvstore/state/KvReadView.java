package dev.weft.kvstore.state;

import java.util.List;

/**
 * Read API of the replicated state, as the HTTP API, DNS and the CLI see it. Implemented by {@link KvState};
 * callers get it through {@code ReplicatedStore.read(...)}, which holds the state's read lock.
 *
 * <p>Index rules follow Consul so that blocking queries behave the same: a found key reports its
 * ModifyIndex; a prefix reports the highest ModifyIndex or delete (tombstone) index under it; when that is
 * 0 (never written), the KV table index. No index is ever 0 once anything was applied.
 */
public interface KvReadView {

    /** Highest log index applied to this state. */
    long lastIndex();

    KvEntry get(String key);

    /** Entries whose key starts with {@code prefix}, in key order. */
    List<KvEntry> list(String prefix);

    /**
     * Keys under {@code prefix}, in order; with a non-empty separator, keys below the next separator after the
     * prefix are folded into one entry ending in the separator (Consul's {@code ?keys&separator=/}).
     */
    List<String> keys(String prefix, String separator);

    /** The index to report for a read of one key. */
    long indexOfKey(String key);

    /** The index to report for a read of a prefix (recurse or keys). */
    long indexOfPrefix(String prefix);

    /** Last index at which any KV entry changed. */
    long kvIndex();

    Session session(String id);

    List<Session> sessions();

    List<Session> sessionsOfNode(String node);

    /** Last index at which the sessions table changed. */
    long sessionsIndex();

    /** Sessions whose deadline is at or before {@code nowMillis} (the leader proposes their expiry). */
    List<Session> expiredSessions(long nowMillis);

    int kvCount();

    /** Deleted keys still remembered for index reporting (reaped by the leader after a while). */
    int tombstoneCount();

    long kvValueBytes();

    /** The service catalog held in the same replicated state. */
    CatalogView catalog();

    /** The ACL tables (policies, tokens as secret hashes, bootstrap marker). */
    AclView acl();
}
