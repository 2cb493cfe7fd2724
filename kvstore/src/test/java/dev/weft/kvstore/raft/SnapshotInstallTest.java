package dev.weft.kvstore.raft;

import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotInstallTest {
    @TempDir
    Path dir;

    @Test
    void laggingFollowerCatchesUpBySnapshotInstall() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3,
                cfg -> cfg.withSnapshotEvery(50).withLogSegmentBytes(8 * 1024))) {
            RaftStore leader = c.awaitLeader();
            int f = (c.indexOf(leader) + 1) % 3;
            leader.submit(new Command.KvSet("first", new byte[1], 0, Command.NO_CAS)).get(20, TimeUnit.SECONDS);
            RaftCluster.await(RaftCluster.DEADLINE, () -> c.store(f).read(v -> v.get("first")) != null,
                    () -> "the follower to apply the first write");
            long followerLast = c.store(f).status().appliedIndex();
            c.stop(f);

            String pad = "x".repeat(100);
            // In waves of 10, so that group commit still leaves many log entries (and closed segments) behind.
            long lastWrite = 0;
            for (int wave = 0; wave < 30; wave++) {
                List<CompletableFuture<Applied>> writes = new ArrayList<>();
                for (int i = wave * 10; i < wave * 10 + 10; i++) {
                    writes.add(leader.submit(new Command.KvSet("k/" + i, (pad + i).getBytes(StandardCharsets.UTF_8),
                            0, Command.NO_CAS)));
                }
                for (CompletableFuture<Applied> w : writes) {
                    lastWrite = Math.max(lastWrite, w.get(20, TimeUnit.SECONDS).index());
                }
            }
            assertTrue(lastWrite > followerLast + 30, "at least 30 entries written while the follower was down");
            long snapshot = leader.takeSnapshot().get(20, TimeUnit.SECONDS);
            assertTrue(snapshot >= lastWrite, "snapshot index " + snapshot + " covers the last write " + lastWrite);
            RaftCluster.await(RaftCluster.DEADLINE, () -> leader.logStartIndex() > followerLast + 1,
                    () -> "the leader to purge its log past the follower (start " + leader.logStartIndex() + ")");

            RaftStore back = c.restart(f);
            RaftCluster.await(RaftCluster.DEADLINE, () -> back.read(v -> v.list("k/").size()) == 300,
                    () -> "the restarted follower to catch up");
            back.readBarrier().get(20, TimeUnit.SECONDS);
            assertEquals(301, (int) back.read(v -> v.kvCount()));
            assertEquals(pad + 299, new String(back.read(v -> v.get("k/299").value()), StandardCharsets.UTF_8));
            assertTrue(c.registries[f].get("weft.raft.snapshots").tag("kind", "installed").counter().count() >= 1,
                    "the follower caught up through a snapshot install");

            // And it keeps replicating normally afterwards.
            Applied after = leader.submit(new Command.KvSet("after", new byte[1], 0, Command.NO_CAS))
                    .get(20, TimeUnit.SECONDS);
            RaftCluster.await(Duration.ofSeconds(10), () -> back.read(v -> v.get("after")) != null,
                    () -> "replication after the install (index " + after.index() + ")");
        }
    }
}
