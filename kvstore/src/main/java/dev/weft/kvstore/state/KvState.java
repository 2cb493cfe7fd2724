package dev.weft.kvstore.state;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The replicated state: KV entries, tombstones, lock delays and sessions. Plain Java and deterministic:
 * {@link #apply} reads no clock, file or socket, so every member that applies the same log holds the same
 * state. Not thread-safe; the Raft adapter serialises applies and guards reads with a read/write lock.
 */
public final class KvState implements KvReadView {

    final TreeMap<String, KvEntry> kv = new TreeMap<>();
    /** Deleted keys and the index at which they were deleted, so reads of a prefix report deletes too. */
    final TreeMap<String, Long> tombstones = new TreeMap<>();
    /** Keys released by an invalidated session may not be acquired again before this time (millis). */
    final TreeMap<String, Long> lockDelays = new TreeMap<>();
    final TreeMap<String, Session> sessions = new TreeMap<>();
    long lastIndex;
    long kvIndex;
    long sessionsIndex;
    long valueBytes;
    final CatalogState catalog = new CatalogState();
    final AclState acl = new AclState();

    // Per-apply scratch: what changed, and the undo log of a transaction in progress.
    private Set<String> changed = new HashSet<>();
    private boolean sessionsChanged;
    private Map<String, Undo> undo;

    private record Undo(KvEntry entry, Long tombstone, boolean wasChanged) {
    }

    public KvState() {
    }

    /**
     * Applies one committed command at {@code index}. Normal refusals (failed CAS, held lock, unknown session)
     * are results; only a non-increasing index, which means a corrupt log, throws.
     */
    public Applied apply(long index, Command command) {
        if (index <= lastIndex) {
            throw new IllegalStateException("log index " + index + " is not above last applied " + lastIndex);
        }
        changed = new HashSet<>();
        sessionsChanged = false;
        Set<String> topics = new HashSet<>();
        catalog.topics = topics;
        Result result = dispatch(index, command);
        catalog.topics = null;
        lastIndex = index;
        if (!changed.isEmpty()) {
            kvIndex = index;
        }
        if (sessionsChanged) {
            sessionsIndex = index;
        }
        return new Applied(index, result, changed, sessionsChanged, topics);
    }

    private Result dispatch(long index, Command command) {
        if (command instanceof Command.KvSet c) {
            return set(index, c);
        } else if (command instanceof Command.KvDelete c) {
            return delete(index, c);
        } else if (command instanceof Command.KvAcquire c) {
            return acquire(index, c.key(), c.value(), c.flags(), c.session(), c.nowMillis());
        } else if (command instanceof Command.KvRelease c) {
            return release(index, c.key(), c.value(), c.flags(), c.session());
        } else if (command instanceof Command.Txn c) {
            return txn(index, c);
        } else if (command instanceof Command.SessionCreate c) {
            return createSession(index, c);
        } else if (command instanceof Command.SessionRenew c) {
            return renewSession(c);
        } else if (command instanceof Command.SessionDestroy c) {
            Session s = sessions.get(c.id());
            if (s != null) {
                invalidate(index, s, c.nowMillis());
            }
            return Result.TRUE;
        } else if (command instanceof Command.SessionExpire c) {
            Session s = sessions.get(c.id());
            if (s == null || s.expiresAtMillis() == 0 || s.expiresAtMillis() > c.nowMillis()) {
                return Result.FALSE;
            }
            invalidate(index, s, c.nowMillis());
            return Result.TRUE;
        } else if (command instanceof Command.Restore c) {
            return restore(index, c.snapshot());
        } else if (command instanceof Command.Batch c) {
            List<Result> results = new ArrayList<>(c.commands().size());
            for (Command sub : c.commands()) {
                results.add(sub instanceof Command.Batch
                        ? new Result.Invalid("a batch cannot contain a batch")
                        : dispatch(index, sub));
            }
            return new Result.Batch(results);
        } else if (command instanceof Command.ReapTombstones c) {
            tombstones.values().removeIf(i -> i <= c.upToIndex());
            catalog.reap(c.upToIndex());
            return Result.TRUE;
        } else if (command instanceof Command.CatalogRegister c) {
            return catalog.register(index, c);
        } else if (command instanceof Command.CatalogDeregister c) {
            return catalog.deregister(index, c);
        } else if (command instanceof Command.CheckStatus c) {
            return catalog.checkStatus(index, c);
        } else if (command instanceof Command.NodeHeartbeat c) {
            return catalog.heartbeat(index, c);
        } else if (command instanceof Command.AclBootstrap c) {
            return acl.bootstrap(index, c);
        } else if (command instanceof Command.AclPolicySet c) {
            return acl.setPolicy(index, c);
        } else if (command instanceof Command.AclPolicyDelete c) {
            return acl.deletePolicy(index, c);
        } else if (command instanceof Command.AclTokenSet c) {
            return acl.setToken(index, c);
        } else if (command instanceof Command.AclTokenDelete c) {
            return acl.deleteToken(index, c);
        }
        throw new IllegalStateException("unhandled command " + command.getClass().getName());
    }

    // ---- KV ----------------------------------------------------------------------------------------------

    private Result set(long index, Command.KvSet c) {
        String invalid = validate(c.key(), c.value());
        if (invalid != null) {
            return new Result.Invalid(invalid);
        }
        if (c.cas() != Command.NO_CAS && !casMatches(c.key(), c.cas())) {
            return Result.FALSE;
        }
        write(index, c.key(), c.value(), c.flags());
        return Result.TRUE;
    }

    private boolean casMatches(String key, long cas) {
        KvEntry e = kv.get(key);
        return e == null ? cas == 0 : e.modifyIndex() == cas;
    }

    private KvEntry write(long index, String key, byte[] value, long flags) {
        KvEntry old = kv.get(key);
        KvEntry e = old == null
                ? new KvEntry(key, value, flags, index, index, 0, null)
                : old.withValue(value, flags, index);
        put(e);
        return e;
    }

    private Result delete(long index, Command.KvDelete c) {
        if (c.recurse()) {
            List<String> keys = new ArrayList<>(kv.tailMap(c.key(), true).keySet().stream()
                    .takeWhile(k -> k.startsWith(c.key())).toList());
            for (String k : keys) {
                remove(index, k);
            }
            return Result.TRUE;
        }
        if (c.cas() != Command.NO_CAS) {
            KvEntry e = kv.get(c.key());
            if (e == null) {
                return Result.TRUE;
            }
            if (e.modifyIndex() != c.cas()) {
                return Result.FALSE;
            }
        }
        remove(index, c.key());
        return Result.TRUE;
    }

    private Result acquire(long index, String key, byte[] value, long flags, String sessionId, long now) {
        String invalid = validate(key, value);
        if (invalid != null) {
            return new Result.Invalid(invalid);
        }
        if (!sessions.containsKey(sessionId)) {
            return new Result.Invalid("invalid session \"" + sessionId + "\"");
        }
        Long delayedUntil = lockDelays.get(key);
        if (delayedUntil != null) {
            if (delayedUntil > now) {
                return Result.FALSE;
            }
            lockDelays.remove(key);
        }
        KvEntry old = kv.get(key);
        if (old != null && old.session() != null && !old.session().equals(sessionId)) {
            return Result.FALSE;
        }
        KvEntry e;
        if (old == null) {
            e = new KvEntry(key, value, flags, index, index, 1, sessionId);
        } else if (sessionId.equals(old.session())) {
            e = old.withValue(value, flags, index);
        } else {
            e = new KvEntry(key, value, flags, old.createIndex(), index, old.lockIndex() + 1, sessionId);
        }
        put(e);
        return Result.TRUE;
    }

    private Result release(long index, String key, byte[] value, long flags, String sessionId) {
        String invalid = validate(key, value);
        if (invalid != null) {
            return new Result.Invalid(invalid);
        }
        KvEntry old = kv.get(key);
        if (old == null || !sessionId.equals(old.session())) {
            return Result.FALSE;
        }
        put(new KvEntry(key, value, flags, old.createIndex(), index, old.lockIndex(), null));
        return Result.TRUE;
    }

    private static String validate(String key, byte[] value) {
        String bad = Limits.checkKey(key, false);
        return bad != null ? bad : Limits.checkValue(value);
    }

    // ---- transactions ------------------------------------------------------------------------------------

    private Result txn(long index, Command.Txn c) {
        if (c.ops().size() > Limits.MAX_TXN_OPS) {
            return new Result.Txn(List.of(), List.of(new Result.TxnError(0,
                    "Transaction contains too many operations (" + c.ops().size() + " > " + Limits.MAX_TXN_OPS + ")")));
        }
        undo = new HashMap<>();
        List<KvEntry> results = new ArrayList<>();
        List<Result.TxnError> errors = new ArrayList<>();
        try {
            for (int i = 0; i < c.ops().size(); i++) {
                String error = txnOp(index, c.ops().get(i), c.nowMillis(), results);
                if (error != null) {
                    errors.add(new Result.TxnError(i, error));
                }
            }
            if (!errors.isEmpty()) {
                rollback();
                return new Result.Txn(List.of(), errors);
            }
            return new Result.Txn(results, List.of());
        } finally {
            undo = null;
        }
    }

    private String txnOp(long index, TxnOp op, long now, List<KvEntry> results) {
        String key = op.key();
        String bad = Limits.checkKey(key, op.verb() == TxnOp.Verb.GET_TREE || op.verb() == TxnOp.Verb.DELETE_TREE);
        if (bad == null) {
            bad = Limits.checkValue(op.value());
        }
        if (bad != null) {
            return bad;
        }
        KvEntry cur = kv.get(key);
        switch (op.verb()) {
            case SET -> results.add(write(index, key, op.value(), op.flags()).withoutValue());
            case CAS -> {
                if (!casMatches(key, op.index())) {
                    return "failed to set key \"" + key + "\", index is stale";
                }
                results.add(write(index, key, op.value(), op.flags()).withoutValue());
            }
            case LOCK -> {
                String session = op.session() == null ? "" : op.session();
                Result r = acquire(index, key, op.value(), op.flags(), session, now);
                if (r instanceof Result.Invalid inv) {
                    return inv.message();
                }
                if (r == Result.FALSE) {
                    return "failed to lock key \"" + key + "\", lock is already held";
                }
                results.add(kv.get(key).withoutValue());
            }
            case UNLOCK -> {
                String session = op.session() == null ? "" : op.session();
                if (release(index, key, op.value(), op.flags(), session) != Result.TRUE) {
                    return "failed to unlock key \"" + key + "\", lock isn't held, or is held by another session";
                }
                results.add(kv.get(key).withoutValue());
            }
            case GET -> {
                if (cur == null) {
                    return "key \"" + key + "\" doesn't exist";
                }
                results.add(cur);
            }
            case GET_OR_EMPTY -> {
                if (cur != null) {
                    results.add(cur);
                }
            }
            case GET_TREE -> results.addAll(list(key));
            case CHECK_INDEX -> {
                if (cur == null) {
                    return "key \"" + key + "\" doesn't exist";
                }
                if (cur.modifyIndex() != op.index()) {
                    return "current modify index " + cur.modifyIndex() + " != " + op.index();
                }
                results.add(cur.withoutValue());
            }
            case CHECK_SESSION -> {
                if (cur == null) {
                    return "key \"" + key + "\" doesn't exist";
                }
                String want = op.session() == null ? "" : op.session();
                String have = cur.session() == null ? "" : cur.session();
                if (!have.equals(want)) {
                    return "current session \"" + have + "\" != \"" + want + "\"";
                }
                results.add(cur.withoutValue());
            }
            case CHECK_NOT_EXISTS -> {
                if (cur != null) {
                    return "key \"" + key + "\" exists";
                }
            }
            case DELETE -> remove(index, key);
            case DELETE_TREE -> delete(index, new Command.KvDelete(key, true, Command.NO_CAS));
            case DELETE_CAS -> {
                // As Consul: deleting a key that does not exist succeeds whatever the index.
                if (cur != null && cur.modifyIndex() != op.index()) {
                    return "failed to delete key \"" + key + "\", index is stale";
                }
                remove(index, key);
            }
        }
        return null;
    }

    private void rollback() {
        for (Map.Entry<String, Undo> u : undo.entrySet()) {
            String key = u.getKey();
            KvEntry now = kv.remove(key);
            if (now != null) {
                valueBytes -= now.value().length;
            }
            if (u.getValue().entry() != null) {
                kv.put(key, u.getValue().entry());
                valueBytes += u.getValue().entry().value().length;
            }
            if (u.getValue().tombstone() != null) {
                tombstones.put(key, u.getValue().tombstone());
            } else {
                tombstones.remove(key);
            }
            if (!u.getValue().wasChanged()) {
                // Changed only by this transaction; an earlier command of the same batch keeps its change.
                changed.remove(key);
            }
        }
    }

    // ---- sessions ----------------------------------------------------------------------------------------

    private Result createSession(long index, Command.SessionCreate c) {
        if (sessions.containsKey(c.id())) {
            return new Result.Invalid("session \"" + c.id() + "\" already exists");
        }
        if (c.ttlMillis() != 0
                && (c.ttlMillis() < Limits.MIN_SESSION_TTL_MILLIS || c.ttlMillis() > Limits.MAX_SESSION_TTL_MILLIS)) {
            return new Result.Invalid("Invalid Session TTL '" + c.ttlMillis() + "ms', must be between [10s=24h0m0s]");
        }
        long deadline = c.ttlMillis() == 0 ? 0 : c.nowMillis() + c.ttlMillis();
        Session s = new Session(c.id(), c.name(), c.node(), c.ttlMillis(), c.lockDelayMillis(), c.behavior(),
                index, index, deadline);
        sessions.put(s.id(), s);
        sessionsChanged = true;
        return new Result.SessionValue(s);
    }

    private Result renewSession(Command.SessionRenew c) {
        Session s = sessions.get(c.id());
        if (s == null) {
            return new Result.SessionValue(null);
        }
        if (s.ttlMillis() == 0) {
            return new Result.SessionValue(s);
        }
        // A renew only moves the deadline; it does not wake session watchers (Consul keeps renewals off the log).
        Session renewed = new Session(s.id(), s.name(), s.node(), s.ttlMillis(), s.lockDelayMillis(), s.behavior(),
                s.createIndex(), s.modifyIndex(), c.nowMillis() + s.ttlMillis());
        sessions.put(s.id(), renewed);
        return new Result.SessionValue(renewed);
    }

    private void invalidate(long index, Session s, long now) {
        sessions.remove(s.id());
        sessionsChanged = true;
        List<KvEntry> held = kv.values().stream().filter(e -> s.id().equals(e.session())).toList();
        for (KvEntry e : held) {
            if (s.behavior() == Session.Behavior.DELETE) {
                remove(index, e.key());
            } else {
                put(new KvEntry(e.key(), e.value(), e.flags(), e.createIndex(), index, e.lockIndex(), null));
            }
            if (s.lockDelayMillis() > 0) {
                lockDelays.put(e.key(), now + s.lockDelayMillis());
            }
        }
    }

    // ---- restore -----------------------------------------------------------------------------------------

    private Result restore(long index, byte[] snapshot) {
        KvState loaded;
        try {
            loaded = StateCodec.read(new ByteArrayInputStream(snapshot));
        } catch (IOException e) {
            return new Result.Invalid("invalid snapshot: " + e.getMessage());
        }
        changed.addAll(kv.keySet());
        changed.addAll(loaded.kv.keySet());
        kv.clear();
        kv.putAll(loaded.kv);
        tombstones.clear();
        tombstones.putAll(loaded.tombstones);
        lockDelays.clear();
        lockDelays.putAll(loaded.lockDelays);
        sessions.clear();
        sessions.putAll(loaded.sessions);
        valueBytes = loaded.valueBytes;
        sessionsChanged = true;
        catalog.topics.add(CatalogView.TOPIC_NODES);
        catalog.topics.add(CatalogView.TOPIC_SERVICES);
        catalog.topics.add(CatalogView.TOPIC_CHECKS);
        for (String name : catalog.serviceIndexes.keySet()) {
            catalog.topics.add(CatalogView.serviceTopic(name));
        }
        for (String name : loaded.catalog.serviceIndexes.keySet()) {
            catalog.topics.add(CatalogView.serviceTopic(name));
        }
        catalog.replaceWith(loaded.catalog);
        acl.replaceWith(loaded.acl);
        catalog.nodesIndex = index;
        catalog.servicesIndex = index;
        catalog.checksIndex = index;
        catalog.serviceIndexes.replaceAll((k, v) -> index);
        if (changed.isEmpty()) {
            kvIndex = index;
        }
        return Result.TRUE;
    }

    // ---- table mutation (records undo inside a transaction) ----------------------------------------------

    private void remember(String key) {
        if (undo != null && !undo.containsKey(key)) {
            undo.put(key, new Undo(kv.get(key), tombstones.get(key), changed.contains(key)));
        }
    }

    private void put(KvEntry e) {
        remember(e.key());
        KvEntry old = kv.put(e.key(), e);
        if (old != null) {
            valueBytes -= old.value().length;
        }
        valueBytes += e.value().length;
        tombstones.remove(e.key());
        changed.add(e.key());
    }

    private void remove(long index, String key) {
        if (!kv.containsKey(key)) {
            return;
        }
        remember(key);
        KvEntry old = kv.remove(key);
        valueBytes -= old.value().length;
        tombstones.put(key, index);
        changed.add(key);
    }

    // ---- reads -------------------------------------------------------------------------------------------

    @Override
    public CatalogView catalog() {
        return catalog;
    }

    @Override
    public AclView acl() {
        return acl;
    }

    @Override
    public long lastIndex() {
        return lastIndex;
    }

    @Override
    public KvEntry get(String key) {
        return kv.get(key);
    }

    @Override
    public List<KvEntry> list(String prefix) {
        List<KvEntry> out = new ArrayList<>();
        for (KvEntry e : kv.tailMap(prefix, true).values()) {
            if (!e.key().startsWith(prefix)) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public List<String> keys(String prefix, String separator) {
        List<String> out = new ArrayList<>();
        String last = null;
        for (String k : kv.tailMap(prefix, true).keySet()) {
            if (!k.startsWith(prefix)) {
                break;
            }
            String item = k;
            if (separator != null && !separator.isEmpty()) {
                int at = k.indexOf(separator, prefix.length());
                if (at >= 0) {
                    item = k.substring(0, at + separator.length());
                }
            }
            if (!item.equals(last)) {
                out.add(item);
                last = item;
            }
        }
        return out;
    }

    @Override
    public long indexOfKey(String key) {
        KvEntry e = kv.get(key);
        if (e != null) {
            return nonZero(e.modifyIndex());
        }
        Long deleted = tombstones.get(key);
        return nonZero(deleted != null ? deleted : kvIndex);
    }

    @Override
    public long indexOfPrefix(String prefix) {
        long max = 0;
        for (KvEntry e : kv.tailMap(prefix, true).values()) {
            if (!e.key().startsWith(prefix)) {
                break;
            }
            max = Math.max(max, e.modifyIndex());
        }
        for (Map.Entry<String, Long> t : tombstones.tailMap(prefix, true).entrySet()) {
            if (!t.getKey().startsWith(prefix)) {
                break;
            }
            max = Math.max(max, t.getValue());
        }
        return nonZero(max != 0 ? max : kvIndex);
    }

    private long nonZero(long index) {
        return index > 0 ? index : Math.max(1, lastIndex);
    }

    @Override
    public long kvIndex() {
        return nonZero(kvIndex);
    }

    @Override
    public Session session(String id) {
        return sessions.get(id);
    }

    @Override
    public List<Session> sessions() {
        return List.copyOf(sessions.values());
    }

    @Override
    public List<Session> sessionsOfNode(String node) {
        return sessions.values().stream().filter(s -> s.node().equals(node)).toList();
    }

    @Override
    public long sessionsIndex() {
        return nonZero(sessionsIndex);
    }

    @Override
    public List<Session> expiredSessions(long nowMillis) {
        return sessions.values().stream()
                .filter(s -> s.expiresAtMillis() != 0 && s.expiresAtMillis() <= nowMillis)
                .toList();
    }

    @Override
    public int kvCount() {
        return kv.size();
    }

    @Override
    public int tombstoneCount() {
        return tombstones.size();
    }

    @Override
    public long kvValueBytes() {
        return valueBytes;
    }
}
