package dev.weft.kvstore.raft;

import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.weft.kvstore.raft.SingleNodeRaftStoreTest.set;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A process killed in the middle of a Raft log write leaves a torn last entry in its open segment. The member
 * must start again from that data dir (Ratis' default refused: "Failed to initRaftLog", a checksum error) and
 * catch up from the leader.
 */
class TornLogTailTest {
    @TempDir
    Path dir;

    @Test
    void aMemberWhoseLastLogEntryIsTornStartsAndCatchesUp() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3, cfg -> cfg)) {
            RaftStore leader = c.awaitLeader();
            int f = c.indexOf(leader) == 0 ? 1 : 0;
            Applied last = null;
            for (int i = 0; i < 20; i++) {
                last = leader.submit(set("k" + i, "v" + i)).get(15, TimeUnit.SECONDS);
            }
            long lastIndex = last.index();
            RaftStore follower = c.store(f);
            RaftCluster.await(Duration.ofSeconds(20), () -> follower.status().appliedIndex() >= lastIndex,
                    () -> "the follower applying the writes");
            c.stop(f);

            Path segment = openSegment(dir.resolve("node" + f));
            long dataEnd = tearTail(segment, 7);
            assertTrue(dataEnd > 7, "the open segment " + segment + " holds entries");

            Applied later = leader.submit(set("k", "after")).get(15, TimeUnit.SECONDS);
            assertEquals(Result.TRUE, later.result());
            RaftStore back = c.restart(f);
            RaftCluster.await(Duration.ofSeconds(30), () -> {
                try {
                    back.readBarrier().get(5, TimeUnit.SECONDS);
                    return "after".equals(value(back, "k")) && "v19".equals(value(back, "k19"))
                            && "v0".equals(value(back, "k0"));
                } catch (Exception e) {
                    return false;
                }
            }, () -> "the restarted member serving every write, the torn one included");
            assertEquals(Result.TRUE, back.submit(set("k2", "through-it")).get(15, TimeUnit.SECONDS).result());
        }
    }

    /**
     * A damaged closed segment (followed by others) is a bad disk, not a crash: the member still refuses to start.
     */
    @Test
    void aCorruptClosedSegmentStillStopsTheStart() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3, cfg -> cfg.withLogSegmentBytes(8 * 1024)
                .withSnapshotEvery(1_000_000))) {
            RaftStore leader = c.awaitLeader();
            int f = c.indexOf(leader) == 0 ? 1 : 0;
            Applied last = null;
            for (int i = 0; i < 200; i++) {
                last = leader.submit(set("k" + (i % 10), "v".repeat(100) + i)).get(15, TimeUnit.SECONDS);
            }
            long lastIndex = last.index();
            RaftStore follower = c.store(f);
            RaftCluster.await(Duration.ofSeconds(20), () -> follower.status().appliedIndex() >= lastIndex,
                    () -> "the follower applying the writes");
            c.stop(f);

            Path closed;
            try (Stream<Path> files = Files.walk(dir.resolve("node" + f))) {
                closed = files.filter(p -> p.getFileName().toString().matches("log_\\d+-\\d+"))
                        .min(java.util.Comparator.comparingLong(p -> Long.parseLong(
                                p.getFileName().toString().substring(4).split("-")[0])))
                        .orElseThrow(() -> new AssertionError("no closed segment"));
            }
            byte[] b = Files.readAllBytes(closed);
            b[b.length / 2] ^= 0x5A;
            Files.write(closed, b);
            // Ratis cuts the damaged segment after its last whole entry; the start then stops on the gap to the
            // next segment instead of serving a log with entries missing.
            StoreException refused = assertThrows(StoreException.class, () -> c.restart(f));
            assertTrue(String.valueOf(refused.getMessage()).contains("gap"), refused.getMessage());
        }
    }

    private static String value(RaftStore s, String key) {
        return s.read(v -> v.get(key) == null ? null : new String(v.get(key).value(), StandardCharsets.UTF_8));
    }

    /** The member's open Raft log segment ({@code log_inprogress_<first index>}). */
    private static Path openSegment(Path memberDir) throws IOException {
        try (Stream<Path> files = Files.walk(memberDir)) {
            List<Path> open = files.filter(p -> p.getFileName().toString().startsWith("log_inprogress_")).toList();
            assertEquals(1, open.size(), "one open segment under " + memberDir + ": " + open);
            return open.get(0);
        }
    }

    /**
     * Zeroes the last {@code bytes} written bytes of a segment (Ratis preallocates segments with zeros), as a
     * write cut short by the process's death leaves them; returns where the written data ended.
     */
    private static long tearTail(Path segment, int bytes) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        int end = b.length;
        while (end > 0 && b[end - 1] == 0) {
            end--;
        }
        for (int i = Math.max(0, end - bytes); i < end; i++) {
            b[i] = 0;
        }
        Files.write(segment, b);
        return end;
    }
}
