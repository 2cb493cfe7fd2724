package dev.weft.kvstore.state;

import dev.weft.kvstore.acl.Secrets;
import dev.weft.kvstore.codec.CommandCodec;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ACL tables: bootstrap once, policies, tokens by accessor and by secret hash, snapshots, no clear secrets. */
class AclStateTest {
    private static final String SECRET = "6a1253d2-1785-24fd-91c2-f8e78c745511";
    private static final String OTHER_SECRET = "e1c5b7a0-3d6f-4c44-9a0b-2f7d8c1e9b33";

    private final KvState state = new KvState();
    private long index;

    private Result apply(Command c) {
        // through the codec, as the Raft log carries it
        return state.apply(++index, CommandCodec.decode(CommandCodec.encode(c))).result();
    }

    private static AclPolicy management() {
        return new AclPolicy(AclView.MANAGEMENT_POLICY_ID, AclView.MANAGEMENT_POLICY_NAME, "builtin", "", 0, 0);
    }

    private Command.AclBootstrap bootstrap(String accessor, String secret) {
        return new Command.AclBootstrap(management(),
                new AclToken(accessor, Secrets.hash(secret), "Bootstrap Token", List.of(AclView.MANAGEMENT_POLICY_ID),
                        false, 1_700_000_000_000L, 0, 0),
                new AclToken(AclView.ANONYMOUS_ACCESSOR_ID, Secrets.hash("anonymous"), "Anonymous Token", List.of(),
                        false, 1_700_000_000_000L, 0, 0));
    }

    private void populate() {
        assertEquals(Result.TRUE, apply(bootstrap("acc-1", SECRET)));
        assertEquals(Result.TRUE, apply(new Command.AclPolicySet(new AclPolicy("pol-kv", "kv-read", "reads",
                "key_prefix \"app/\" { policy = \"read\" }", 0, 0))));
        assertEquals(Result.TRUE, apply(new Command.AclTokenSet(new AclToken("acc-2", Secrets.hash(OTHER_SECRET),
                "reader", List.of("pol-kv"), false, 1_700_000_000_500L, 0, 0))));
    }

    @Test
    void bootstrapHappensOnce() {
        assertEquals(0, state.acl().bootstrapIndex());
        assertEquals(Result.TRUE, apply(bootstrap("acc-1", SECRET)));
        assertEquals(1, state.acl().bootstrapIndex());
        assertEquals(Result.FALSE, apply(bootstrap("acc-x", "another")), "a second bootstrap changes nothing");
        assertNull(state.acl().token("acc-x"));
        AclToken t = state.acl().tokenBySecretHash(Secrets.hash(SECRET));
        assertEquals("acc-1", t.accessorId());
        assertEquals(List.of(AclView.MANAGEMENT_POLICY_ID), t.policyIds());
        assertEquals(1, t.createIndex());
        assertEquals(1_700_000_000_000L, t.createTimeMillis(), "the proposer's time, not the applier's");
        assertEquals(AclView.MANAGEMENT_POLICY_NAME, state.acl().policy(AclView.MANAGEMENT_POLICY_ID).name());
        assertTrue(state.acl().token(AclView.ANONYMOUS_ACCESSOR_ID) != null, "the anonymous token exists");
    }

    @Test
    void policiesHaveUniqueNamesAndKeepTheirCreateIndex() {
        populate();
        AclPolicy p = state.acl().policy("pol-kv");
        assertEquals(2, p.createIndex());
        assertInstanceOf(Result.Invalid.class, apply(new Command.AclPolicySet(
                new AclPolicy("pol-other", "kv-read", "", "", 0, 0))), "name already taken");
        assertEquals(Result.TRUE, apply(new Command.AclPolicySet(new AclPolicy("pol-kv", "kv-read", "changed",
                "key_prefix \"app/\" { policy = \"write\" }", 0, 0))));
        AclPolicy updated = state.acl().policyByName("kv-read");
        assertEquals(2, updated.createIndex());
        assertEquals(index, updated.modifyIndex());
        assertEquals("changed", updated.description());
        assertInstanceOf(Result.Invalid.class, apply(new Command.AclPolicyDelete(AclView.MANAGEMENT_POLICY_ID)));
        assertEquals(Result.TRUE, apply(new Command.AclPolicyDelete("pol-kv")));
        assertEquals(Result.FALSE, apply(new Command.AclPolicyDelete("pol-kv")));
        assertEquals(index - 1, state.acl().aclIndex(), "a delete of nothing changes no index");
    }

    @Test
    void tokensAreFoundByHashAndNeedExistingPolicies() {
        populate();
        assertEquals("acc-2", state.acl().tokenBySecretHash(Secrets.hash(OTHER_SECRET)).accessorId());
        assertNull(state.acl().tokenBySecretHash(Secrets.hash("nope")));
        assertInstanceOf(Result.Invalid.class, apply(new Command.AclTokenSet(new AclToken("acc-3",
                Secrets.hash("x"), "", List.of("no-such-policy"), false, 0, 0, 0))));
        assertInstanceOf(Result.Invalid.class, apply(new Command.AclTokenSet(new AclToken("acc-3",
                Secrets.hash(SECRET), "", List.of(), false, 0, 0, 0))), "a secret belongs to one token");
        assertEquals(Result.TRUE, apply(new Command.AclTokenDelete("acc-2")));
        assertNull(state.acl().tokenBySecretHash(Secrets.hash(OTHER_SECRET)), "the hash index follows deletes");
        assertInstanceOf(Result.Invalid.class, apply(new Command.AclTokenDelete(AclView.ANONYMOUS_ACCESSOR_ID)));
    }

    @Test
    void snapshotCarriesAclTablesAndNoSecret() throws IOException {
        populate();
        byte[] snap = snapshot(state);
        KvState back = StateCodec.read(new ByteArrayInputStream(snap));
        assertEquals(state.acl().policies(), back.acl().policies());
        assertEquals(state.acl().tokens(), back.acl().tokens());
        assertEquals(state.acl().bootstrapIndex(), back.acl().bootstrapIndex());
        assertEquals(state.acl().aclIndex(), back.acl().aclIndex());
        assertEquals("acc-2", back.acl().tokenBySecretHash(Secrets.hash(OTHER_SECRET)).accessorId());
        assertArrayEquals(snap, snapshot(back), "byte-for-byte deterministic");

        for (String secret : List.of(SECRET, OTHER_SECRET)) {
            assertFalse(contains(snap, secret.getBytes(StandardCharsets.UTF_8)), "no secret in the snapshot");
            assertTrue(contains(snap, Secrets.hash(secret).getBytes(StandardCharsets.UTF_8)), "its hash is");
        }
        byte[] log = CommandCodec.encode(bootstrap("acc-1", SECRET));
        assertFalse(contains(log, SECRET.getBytes(StandardCharsets.UTF_8)), "no secret in the Raft log");
    }

    @Test
    void restoreReplacesAclTables() throws IOException {
        populate();
        byte[] snap = snapshot(state);
        KvState other = new KvState();
        other.apply(1, new Command.KvSet("k", new byte[0], 0, Command.NO_CAS));
        other.apply(2, new Command.Restore(snap));
        assertEquals(state.acl().tokens(), other.acl().tokens());
        assertEquals("acc-1", other.acl().tokenBySecretHash(Secrets.hash(SECRET)).accessorId());
    }

    @Test
    void versionTwoSnapshotWithoutAclIsStillRead() throws IOException {
        KvState kvOnly = new KvState();
        kvOnly.apply(1, new Command.KvSet("k", "v".getBytes(StandardCharsets.UTF_8), 0, Command.NO_CAS));
        byte[] current = snapshot(kvOnly);
        int aclSection = 2 * Long.BYTES + 2 * Integer.BYTES;
        byte[] body = Arrays.copyOf(current, current.length - Long.BYTES - aclSection);
        ByteBuffer.wrap(body).putInt(8, 2);
        CRC32 crc = new CRC32();
        crc.update(body);
        byte[] v2 = ByteBuffer.allocate(body.length + Long.BYTES).put(body).putLong(crc.getValue()).array();
        KvState back = StateCodec.read(new ByteArrayInputStream(v2));
        assertEquals("v", new String(back.get("k").value(), StandardCharsets.UTF_8));
        assertEquals(0, back.acl().bootstrapIndex());
        assertEquals(List.of(), back.acl().tokens());
        assertArrayEquals(current, snapshot(back));
    }

    private static byte[] snapshot(KvState s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateCodec.write(s, out);
        return out.toByteArray();
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
