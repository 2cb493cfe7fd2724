package dev.weft.kvstore.raft;

import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Ratis may close a member's Raft server for good after an internal error while the process lives on (seen in
 * the long chaos run). The store's watchdog restarts it from the data dir, and the member serves again.
 */
class ServerWatchdogTest {
    @TempDir
    Path dir;

    @Test
    void aFollowerWhoseRaftServerStoppedIsRestartedAndCatchesUp() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3, cfg -> cfg)) {
            RaftStore leader = c.awaitLeader();
            RaftStore follower = null;
            for (int i = 0; i < 3; i++) {
                if (c.store(i) != leader) {
                    follower = c.store(i);
                    break;
                }
            }
            RaftStore f = follower;
            Applied before = leader.submit(set("k", "before")).get(15, TimeUnit.SECONDS);
            RaftCluster.await(Duration.ofSeconds(20), () -> f.status().appliedIndex() >= before.index(),
                    () -> "follower applying the first write");

            f.killServerForTest();
            Applied during = leader.submit(set("k", "while-stopped")).get(15, TimeUnit.SECONDS);
            assertEquals(Result.TRUE, during.result());

            // The watchdog notices within a few seconds, restarts the server; the follower catches up.
            RaftCluster.await(Duration.ofSeconds(30), () -> {
                try {
                    f.readBarrier().get(5, TimeUnit.SECONDS);
                    return "while-stopped".equals(f.read(v -> new String(v.get("k").value(),
                            StandardCharsets.UTF_8)));
                } catch (Exception e) {
                    return false;
                }
            }, () -> "the restarted follower serving the write it missed");
            SimpleMeterRegistryCheck.assertCount(c, f, "weft.raft.server.restarts", 1.0);
            // and it keeps working as a member: a write through it commits
            assertEquals(Result.TRUE, f.submit(set("k2", "after")).get(15, TimeUnit.SECONDS).result());
        }
    }

    private static Command.KvSet set(String key, String value) {
        return new Command.KvSet(key, value.getBytes(StandardCharsets.UTF_8), 0, Command.NO_CAS);
    }

    /** Reads a counter from the registry of the cluster member {@code store}. */
    private static final class SimpleMeterRegistryCheck {
        static void assertCount(RaftCluster c, RaftStore store, String name, double expected) {
            for (int i = 0; i < 3; i++) {
                if (c.store(i) == store) {
                    assertEquals(expected, c.registries[i].get(name).counter().count());
                    return;
                }
            }
            throw new AssertionError("store not in the cluster");
        }
    }
}
