package dev.weft.kvstore.state;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvStateTest {

    private KvState state;
    private long index;

    @BeforeEach
    void setUp() {
        state = new KvState();
        index = 0;
    }

    private Applied apply(Command c) {
        return state.apply(++index, c);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private Result set(String key, String value) {
        return apply(new Command.KvSet(key, b(value), 0, Command.NO_CAS)).result();
    }

    private String session(String id, long ttl, long lockDelay, Session.Behavior behavior, long now) {
        Result r = apply(new Command.SessionCreate(id, "n", "node1", ttl, lockDelay, behavior, now)).result();
        assertNotNull(assertInstanceOf(Result.SessionValue.class, r).session());
        return id;
    }

    @Test
    void setStampsIndexesAndKeepsCreateIndex() {
        assertEquals(Result.TRUE, set("a", "1"));
        KvEntry e = state.get("a");
        assertEquals(1, e.createIndex());
        assertEquals(1, e.modifyIndex());
        assertEquals(0, e.lockIndex());
        assertNull(e.session());
        set("a", "2");
        e = state.get("a");
        assertEquals(1, e.createIndex());
        assertEquals(2, e.modifyIndex());
        assertEquals("2", s(e.value()));
        assertEquals(2, state.lastIndex());
        assertEquals(2, state.kvIndex());
    }

    /** (existing modify index or null, cas, expected result). */
    static Stream<Arguments> casCases() {
        return Stream.of(
                Arguments.of(null, 0L, true),    // cas=0: create only if absent
                Arguments.of(null, 5L, false),   // absent but index given
                Arguments.of(1L, 0L, false),     // present, cas=0
                Arguments.of(1L, 1L, true),      // matching index
                Arguments.of(1L, 2L, false));    // stale index
    }

    @ParameterizedTest
    @MethodSource("casCases")
    void casSet(Long existing, long cas, boolean expected) {
        if (existing != null) {
            set("k", "old");
        }
        Applied a = apply(new Command.KvSet("k", b("new"), 7, cas));
        assertEquals(Result.Bool.of(expected), a.result());
        KvEntry e = state.get("k");
        if (expected) {
            assertEquals("new", s(e.value()));
            assertEquals(7, e.flags());
            assertEquals(Set.of("k"), a.changedKeys());
        } else {
            assertEquals(existing == null, e == null);
            assertTrue(a.changedKeys().isEmpty());
        }
    }

    @Test
    void deleteCasAndRecurseAndTombstoneIndexes() {
        set("a/1", "x");
        set("a/2", "x");
        set("b", "x");
        assertEquals(Result.FALSE, apply(new Command.KvDelete("a/1", false, 99)).result());
        assertNotNull(state.get("a/1"));
        assertEquals(Result.TRUE, apply(new Command.KvDelete("a/1", false, 1)).result());
        assertNull(state.get("a/1"));
        assertEquals(5, state.indexOfKey("a/1"), "deleted key reports its delete index");
        assertEquals(Result.TRUE, apply(new Command.KvDelete("missing", false, 3)).result(), "cas on missing key");
        Applied a = apply(new Command.KvDelete("a/", true, Command.NO_CAS));
        assertEquals(Set.of("a/2"), a.changedKeys());
        assertEquals(List.of("b"), state.keys("", ""));
        assertEquals(7, state.indexOfPrefix("a/"), "prefix reports latest delete under it");
        assertEquals(3, state.indexOfPrefix("b"));
    }

    @Test
    void listKeysAndSeparator() {
        for (String k : List.of("web/1", "web/2", "web/sub/a", "web/sub/b", "webx", "z")) {
            set(k, "v");
        }
        assertEquals(List.of("web/1", "web/2", "web/sub/a", "web/sub/b"),
                state.list("web/").stream().map(KvEntry::key).toList());
        assertEquals(List.of("web/1", "web/2", "web/sub/"), state.keys("web/", "/"));
        assertEquals(List.of("web/", "webx", "z"), state.keys("", "/"));
        assertEquals(6, state.kvCount());
        assertEquals(6, state.kvValueBytes());
    }

    @Test
    void indexesAreNeverZero() {
        assertEquals(1, state.kvIndex());
        apply(new Command.SessionCreate("s", "", "n", 0, 0, Session.Behavior.RELEASE, 0));
        assertEquals(1, state.indexOfKey("nothing"));
        assertEquals(1, state.indexOfPrefix(""));
        assertEquals(1, state.sessionsIndex());
    }

    @Test
    void acquireReleaseAndLockIndex() {
        String s1 = session("s1", 0, 0, Session.Behavior.RELEASE, 0);
        String s2 = session("s2", 0, 0, Session.Behavior.RELEASE, 0);
        assertEquals(Result.TRUE, apply(new Command.KvAcquire("lock", b("me"), 0, s1, 0)).result());
        KvEntry e = state.get("lock");
        assertEquals(1, e.lockIndex());
        assertEquals(s1, e.session());
        assertEquals(Result.FALSE, apply(new Command.KvAcquire("lock", b("other"), 0, s2, 0)).result());
        assertEquals(Result.TRUE, apply(new Command.KvAcquire("lock", b("again"), 0, s1, 0)).result(),
                "re-acquire by the holder updates the value");
        assertEquals(1, state.get("lock").lockIndex(), "re-acquire does not bump LockIndex");
        assertEquals(Result.FALSE, apply(new Command.KvRelease("lock", b(""), 0, s2)).result());
        assertEquals(Result.TRUE, apply(new Command.KvRelease("lock", b("free"), 0, s1)).result());
        assertNull(state.get("lock").session());
        assertEquals(Result.TRUE, apply(new Command.KvAcquire("lock", b("s2"), 0, s2, 0)).result());
        assertEquals(2, state.get("lock").lockIndex());
        // A plain PUT on a held key keeps the lock.
        set("lock", "plain");
        assertEquals(s2, state.get("lock").session());
    }

    @Test
    void acquireWithUnknownSessionIsInvalid() {
        Result r = apply(new Command.KvAcquire("k", b(""), 0, "nope", 0)).result();
        assertEquals("invalid session \"nope\"", assertInstanceOf(Result.Invalid.class, r).message());
        assertNull(state.get("k"));
    }

    @Test
    void destroyReleasesLocksAndAppliesLockDelay() {
        String s1 = session("s1", 0, 15_000, Session.Behavior.RELEASE, 1000);
        String s2 = session("s2", 0, 0, Session.Behavior.RELEASE, 1000);
        apply(new Command.KvAcquire("l", b("v"), 0, s1, 1000));
        Applied a = apply(new Command.SessionDestroy(s1, 2000));
        assertTrue(a.sessionsChanged());
        assertEquals(Set.of("l"), a.changedKeys());
        assertNull(state.get("l").session());
        assertEquals("v", s(state.get("l").value()), "release keeps the value");
        assertNull(state.session(s1));
        assertEquals(Result.FALSE, apply(new Command.KvAcquire("l", b(""), 0, s2, 16_999)).result(), "lock delay");
        assertEquals(Result.TRUE, apply(new Command.KvAcquire("l", b(""), 0, s2, 17_000)).result());
    }

    @Test
    void deleteBehaviorDeletesHeldKeys() {
        String s1 = session("s1", 0, 0, Session.Behavior.DELETE, 0);
        apply(new Command.KvAcquire("l1", b("v"), 0, s1, 0));
        apply(new Command.KvAcquire("l2", b("v"), 0, s1, 0));
        set("free", "v");
        apply(new Command.SessionDestroy(s1, 0));
        assertEquals(List.of("free"), state.keys("", ""));
    }

    @Test
    void sessionExpiryIsDecidedByTheCommandTime() {
        String s1 = session("s1", 10_000, 0, Session.Behavior.RELEASE, 1_000);
        apply(new Command.KvAcquire("l", b("v"), 0, s1, 1_000));
        assertEquals(List.of(), state.expiredSessions(10_999));
        assertEquals(List.of(s1), state.expiredSessions(11_000).stream().map(Session::id).toList());
        // A renew that wins the race moves the deadline; a stale expire is then refused.
        Result renewed = apply(new Command.SessionRenew(s1, 10_500)).result();
        assertEquals(20_500, assertInstanceOf(Result.SessionValue.class, renewed).session().expiresAtMillis());
        assertEquals(Result.FALSE, apply(new Command.SessionExpire(s1, 11_000)).result());
        assertNotNull(state.session(s1));
        assertEquals(Result.TRUE, apply(new Command.SessionExpire(s1, 20_500)).result());
        assertNull(state.session(s1));
        assertNull(state.get("l").session());
        assertNull(assertInstanceOf(Result.SessionValue.class,
                apply(new Command.SessionRenew(s1, 21_000)).result()).session());
    }

    @Test
    void sessionTtlBoundsAndDuplicates() {
        assertInstanceOf(Result.Invalid.class,
                apply(new Command.SessionCreate("s", "", "n", 9_999, 0, null, 0)).result());
        assertInstanceOf(Result.Invalid.class,
                apply(new Command.SessionCreate("s", "", "n", 86_400_001, 0, null, 0)).result());
        session("s", 10_000, 0, null, 0);
        assertInstanceOf(Result.Invalid.class,
                apply(new Command.SessionCreate("s", "", "n", 0, 0, null, 0)).result());
        session("t", 0, 0, null, 0);
        assertEquals(List.of("s", "t"), state.sessionsOfNode("node1").stream().map(Session::id).toList());
    }

    @Test
    void invalidInputIsRefusedWithoutChange() {
        assertInstanceOf(Result.Invalid.class, set("/lead", "x"));
        assertInstanceOf(Result.Invalid.class, set("", "x"));
        assertInstanceOf(Result.Invalid.class, set("k".repeat(513), "x"));
        assertInstanceOf(Result.Invalid.class,
                apply(new Command.KvSet("big", new byte[Limits.MAX_VALUE_BYTES + 1], 0, Command.NO_CAS)).result());
        assertEquals(0, state.kvCount());
        assertEquals(Result.TRUE, set("k".repeat(512), "x"));
    }

    @Test
    void indexMustIncrease() {
        state.apply(5, new Command.KvSet("a", b("1"), 0, Command.NO_CAS));
        assertThrows(IllegalStateException.class, () -> state.apply(5, new Command.KvSet("a", b("1"), 0, -1)));
    }

    @Test
    void batchAppliesEachCommandAtOneIndexWithItsOwnResult() {
        set("x", "old"); // index 1
        Applied a = apply(new Command.Batch(List.of(
                new Command.KvSet("a", b("1"), 0, Command.NO_CAS),
                new Command.KvSet("x", b("new"), 0, 1),
                new Command.KvSet("x", b("lost"), 0, 1),          // stale after the previous command
                new Command.Txn(List.of(op(TxnOp.Verb.SET, "a", "2", 0, null),
                        op(TxnOp.Verb.GET, "missing", null, 0, null)), 0),  // rolls back
                new Command.Batch(List.of()))));
        Result.Batch r = assertInstanceOf(Result.Batch.class, a.result());
        assertEquals(Result.TRUE, r.results().get(0));
        assertEquals(Result.TRUE, r.results().get(1));
        assertEquals(Result.FALSE, r.results().get(2));
        assertFalse(assertInstanceOf(Result.Txn.class, r.results().get(3)).committed());
        assertInstanceOf(Result.Invalid.class, r.results().get(4));
        assertEquals("1", s(state.get("a").value()));
        assertEquals("new", s(state.get("x").value()));
        assertEquals(2, state.get("a").modifyIndex());
        assertEquals(2, state.get("x").modifyIndex());
        assertEquals(Set.of("a", "x"), a.changedKeys(),
                "a rolled-back txn does not hide a key an earlier command of the batch changed");
    }

    // ---- transactions ----

    private static TxnOp op(TxnOp.Verb verb, String key, String value, long index, String session) {
        return new TxnOp(verb, key, value == null ? null : b(value), 0, index, session);
    }

    @Test
    void txnCommitsAllOpsAtOneIndex() {
        set("x", "old");
        String sid = session("s", 0, 0, null, 0);
        Result.Txn t = assertInstanceOf(Result.Txn.class, apply(new Command.Txn(List.of(
                op(TxnOp.Verb.SET, "a", "1", 0, null),
                op(TxnOp.Verb.CAS, "x", "new", 1, null),
                op(TxnOp.Verb.LOCK, "l", "v", 0, sid),
                op(TxnOp.Verb.GET, "x", null, 0, null),
                op(TxnOp.Verb.CHECK_NOT_EXISTS, "nope", null, 0, null),
                op(TxnOp.Verb.GET_OR_EMPTY, "nope", null, 0, null),
                op(TxnOp.Verb.CHECK_SESSION, "l", null, 0, sid),
                op(TxnOp.Verb.GET_TREE, "", null, 0, null)), 0)).result());
        assertTrue(t.committed());
        assertEquals(List.of("a", "x", "l", "x", "l", "a", "l", "x"),
                t.results().stream().map(KvEntry::key).toList());
        assertFalse(t.results().get(0).hasValue(), "write verbs return no value");
        assertEquals("new", s(t.results().get(3).value()), "get returns the value written earlier in the txn");
        assertEquals(3, state.get("a").modifyIndex());
        assertEquals(3, state.get("x").modifyIndex());
        assertEquals(1, state.get("l").lockIndex());
    }

    @Test
    void txnRollsBackEverythingAndReportsEveryError() {
        set("x", "old");     // index 1
        set("gone", "v");    // index 2
        Applied a = apply(new Command.Txn(List.of(
                op(TxnOp.Verb.SET, "new", "1", 0, null),
                op(TxnOp.Verb.DELETE, "gone", null, 0, null),
                op(TxnOp.Verb.CAS, "x", "bad", 99, null),
                op(TxnOp.Verb.DELETE_TREE, "", null, 0, null),
                op(TxnOp.Verb.GET, "missing", null, 0, null),
                op(TxnOp.Verb.CHECK_INDEX, "x", null, 7, null),
                op(TxnOp.Verb.LOCK, "l", "", 0, "nosuch"),
                op(TxnOp.Verb.UNLOCK, "x", "", 0, "nosuch"),
                op(TxnOp.Verb.DELETE_CAS, "x", null, 5, null)), 0));
        Result.Txn t = assertInstanceOf(Result.Txn.class, a.result());
        assertFalse(t.committed());
        assertEquals(List.of(
                new Result.TxnError(2, "failed to set key \"x\", index is stale"),
                new Result.TxnError(4, "key \"missing\" doesn't exist"),
                new Result.TxnError(5, "key \"x\" doesn't exist"),
                new Result.TxnError(6, "invalid session \"nosuch\""),
                new Result.TxnError(7, "failed to unlock key \"x\", lock isn't held, or is held by another session")),
                t.errors(),
                "the delete-tree at op 3 removed x inside the txn, so later ops see it missing "
                        + "(and delete-cas of a missing key succeeds, as in Consul)");
        assertTrue(a.changedKeys().isEmpty());
        assertEquals(List.of("gone", "x"), state.keys("", ""));
        assertEquals("old", s(state.get("x").value()));
        assertEquals(1, state.get("x").modifyIndex());
        assertEquals(2, state.kvIndex(), "a rolled-back txn does not move the KV index");
        assertEquals(4, state.kvValueBytes(), "\"old\" + \"v\"");
        assertEquals(2, state.indexOfPrefix(""), "tombstones written inside the txn are rolled back too");
    }

    @Test
    void txnTooManyOps() {
        List<TxnOp> ops = java.util.stream.IntStream.range(0, 129)
                .mapToObj(i -> op(TxnOp.Verb.SET, "k" + i, "v", 0, null)).toList();
        Result.Txn t = assertInstanceOf(Result.Txn.class, apply(new Command.Txn(ops, 0)).result());
        assertFalse(t.committed());
        assertEquals(0, state.kvCount());
    }

    // ---- snapshot and restore ----

    @Test
    void snapshotRoundTripAndRestore() throws Exception {
        set("a", "1");
        String sid = session("s", 20_000, 5_000, Session.Behavior.DELETE, 100);
        apply(new Command.KvAcquire("l", b("x"), 3, sid, 100));
        apply(new Command.KvDelete("a", false, Command.NO_CAS));
        byte[] snap = snapshot(state);

        KvState loaded = StateCodec.read(new java.io.ByteArrayInputStream(snap));
        assertEquals(state.lastIndex(), loaded.lastIndex());
        assertEquals(state.kvIndex(), loaded.kvIndex());
        assertEquals(state.sessionsIndex(), loaded.sessionsIndex());
        assertEquals(state.indexOfKey("a"), loaded.indexOfKey("a"));
        assertEquals(state.sessions(), loaded.sessions());
        assertEntriesEqual(state.list(""), loaded.list(""));
        assertArrayEquals(snap, snapshot(loaded), "a loaded state snapshots to the same bytes");

        KvState other = new KvState();
        other.apply(1, new Command.KvSet("z", b("z"), 0, Command.NO_CAS));
        Applied a = other.apply(2, new Command.Restore(snap));
        assertEquals(Result.TRUE, a.result());
        assertEquals(Set.of("z", "l"), a.changedKeys());
        assertEntriesEqual(state.list(""), other.list(""));
        assertEquals(2, other.lastIndex());
    }

    @Test
    void corruptSnapshotsAreRejected() throws Exception {
        set("a", "1");
        byte[] snap = snapshot(state);
        for (int i = 0; i < snap.length; i += 7) {
            byte[] bad = snap.clone();
            bad[i] ^= 0x5a;
            assertThrows(java.io.IOException.class, () -> StateCodec.read(new java.io.ByteArrayInputStream(bad)),
                    "flipped byte " + i);
        }
        byte[] truncated = java.util.Arrays.copyOf(snap, snap.length - 3);
        assertThrows(java.io.IOException.class, () -> StateCodec.read(new java.io.ByteArrayInputStream(truncated)));
        KvState other = new KvState();
        other.apply(1, new Command.KvSet("keep", b("me"), 0, Command.NO_CAS));
        assertInstanceOf(Result.Invalid.class, other.apply(2, new Command.Restore(truncated)).result());
        assertEquals(List.of("keep"), other.keys("", ""), "a bad restore leaves the state as it was");
    }

    @Test
    void reapTombstones() {
        set("a", "1");
        apply(new Command.KvDelete("a", false, Command.NO_CAS));
        set("b", "1");
        assertEquals(2, state.indexOfKey("a"));
        apply(new Command.ReapTombstones(2));
        assertEquals(3, state.indexOfKey("a"), "after reaping, a missing key reports the KV index");
    }

    static byte[] snapshot(KvState s) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        StateCodec.write(s, out);
        return out.toByteArray();
    }

    static void assertEntriesEqual(List<KvEntry> expected, List<KvEntry> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            KvEntry e = expected.get(i), a = actual.get(i);
            assertEquals(e.key(), a.key());
            assertArrayEquals(e.value(), a.value());
            assertEquals(List.of(e.flags(), e.createIndex(), e.modifyIndex(), e.lockIndex()),
                    List.of(a.flags(), a.createIndex(), a.modifyIndex(), a.lockIndex()));
            assertEquals(e.session(), a.session());
        }
    }
}
