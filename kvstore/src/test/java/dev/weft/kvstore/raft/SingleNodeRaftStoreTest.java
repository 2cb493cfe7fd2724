package dev.weft.kvstore.raft;

import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SingleNodeRaftStoreTest {
    private static final long WAIT = 15;

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Command.KvSet set(String key, String value) {
        return new Command.KvSet(key, b(value), 0, Command.NO_CAS);
    }

    @Test
    void submitReadBackAndReadBarrier() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 1, cfg -> cfg)) {
            RaftStore s = c.awaitLeader();
            Applied a = s.submit(new Command.KvSet("a", b("1"), 7, Command.NO_CAS)).get(WAIT, TimeUnit.SECONDS);
            assertEquals(Result.TRUE, a.result());
            assertTrue(a.index() > 0, "index " + a.index());

            s.readBarrier().get(WAIT, TimeUnit.SECONDS);
            KvEntry e = s.read(v -> v.get("a"));
            assertNotNull(e);
            assertArrayEquals(b("1"), e.value());
            assertEquals(7, e.flags());
            assertEquals(a.index(), e.modifyIndex());

            // A CAS mismatch is a normal result.
            Applied cas = s.submit(new Command.KvSet("a", b("2"), 0, a.index() + 100)).get(WAIT, TimeUnit.SECONDS);
            assertEquals(Result.FALSE, cas.result());

            // Watches fire from the state machine on commit.
            CountDownLatch fired = new CountDownLatch(1);
            s.watches().onKey("b", fired::countDown);
            s.submit(set("b", "x")).get(WAIT, TimeUnit.SECONDS);
            assertTrue(fired.await(WAIT, TimeUnit.SECONDS));

            int port = c.config(0).raftPort();
            RaftStatus st = s.status();
            assertEquals("127.0.0.1-" + port, st.selfId());
            assertEquals(st.selfId(), st.leaderId());
            assertEquals("127.0.0.1:" + port, st.leaderAddress());
            assertTrue(st.isLeader() && st.knownLeader());
            assertEquals(0, st.lastContactMillis());
            assertEquals(List.of(new RaftStatus.Peer(st.selfId(), "127.0.0.1:" + port, true)), st.peers());
            assertTrue(st.appliedIndex() >= a.index() && st.commitIndex() >= a.index(), st.toString());
            assertTrue(st.term() >= 1);

            SimpleMeterRegistry m = c.registries[0];
            assertTrue(m.get("weft.raft.apply").timer().count() >= 3);
            assertEquals(2.0, m.get("weft.kv.keys").gauge().value());
            assertTrue(m.get("weft.raft.applied.index").gauge().value() >= a.index());
        }
    }

    @Test
    void restartFromDataDirKeepsDataAndIdentity() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 1, cfg -> cfg)) {
            RaftStore s = c.awaitLeader();
            String id = s.selfId();
            for (int i = 0; i < 20; i++) {
                s.submit(set("k/" + i, "v" + i)).get(WAIT, TimeUnit.SECONDS);
                if (i == 9) {
                    // half in the snapshot, half replayed from the log after the restart
                    assertTrue(s.takeSnapshot().get(WAIT, TimeUnit.SECONDS) >= 10);
                }
            }
            c.stop(0);

            RaftStore again = c.restart(0);
            assertEquals(id, again.selfId());
            c.awaitLeader();
            again.readBarrier().get(WAIT, TimeUnit.SECONDS);
            assertEquals(20, (int) again.read(v -> v.list("k/").size()));
            assertArrayEquals(b("v19"), again.read(v -> v.get("k/19").value()));
            Applied next = again.submit(set("after", "restart")).get(WAIT, TimeUnit.SECONDS);
            assertTrue(next.index() > again.read(v -> v.get("k/19").modifyIndex()));
        }
    }

    @Test
    void rejectsAnInconsistentBootstrap() {
        RaftConfig base = RaftConfig.defaults("n", dir.resolve("n")).withPort(RaftCluster.freePorts(1)[0]);
        IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class,
                () -> RaftStore.start(base.withJoin(List.of("127.0.0.1:1"), 3), new SimpleMeterRegistry()));
        assertTrue(tooFew.getMessage().contains("bootstrap_expect is 3"), tooFew.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> RaftStore.start(base.withJoin(List.of(), 0), new SimpleMeterRegistry()));
        assertThrows(IllegalArgumentException.class,
                () -> RaftStore.start(base.withJoin(List.of("nonsense"), 2), new SimpleMeterRegistry()));
    }
}
