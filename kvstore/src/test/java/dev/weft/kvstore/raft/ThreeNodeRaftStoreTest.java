package dev.weft.kvstore.raft;

import dev.weft.kvstore.NoLeaderException;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreeNodeRaftStoreTest {
    private static final long WAIT = 20;

    @TempDir
    Path dir;

    private static Command.KvSet set(String key, String value) {
        return new Command.KvSet(key, value.getBytes(StandardCharsets.UTF_8), 0, Command.NO_CAS);
    }

    /** Proposes {@code count} writes at once (pipelined) and records the acknowledged ones. */
    private static List<CompletableFuture<Applied>> writeAll(RaftStore via, String prefix, int count,
                                                             Map<String, String> acked, AtomicInteger failed) {
        List<CompletableFuture<Applied>> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = prefix + i;
            String value = "v-" + prefix + i;
            out.add(via.submit(set(key, value)).whenComplete((a, e) -> {
                if (e == null && a.result() == Result.TRUE) {
                    acked.put(key, value);
                } else {
                    failed.incrementAndGet();
                }
            }));
        }
        return out;
    }

    private static void awaitAll(List<CompletableFuture<Applied>> futures) throws InterruptedException {
        for (CompletableFuture<Applied> f : futures) {
            try {
                f.get(WAIT, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // counted by writeAll; only StoreExceptions are acceptable failures
                assertInstanceOf(StoreException.class, e.getCause(), e.toString());
            } catch (TimeoutException e) {
                throw new AssertionError("a proposal neither completed nor failed within " + WAIT + " s", e);
            }
        }
    }

    @Test
    void writesSurviveLeaderLossAndResumeUnderANewLeader() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3, cfg -> cfg)) {
            RaftStore leader = c.awaitLeader();
            Map<String, String> acked = new ConcurrentHashMap<>();
            AtomicInteger failed = new AtomicInteger();

            // Writes through every member succeed (followers forward to the leader).
            for (int i = 0; i < c.size(); i++) {
                awaitAll(writeAll(c.store(i), "m" + i + "/", 5, acked, failed));
            }
            assertEquals(15, acked.size());
            assertEquals(0, failed.get());

            // Followers see the leader and its recent contact.
            int leaderIndex = c.indexOf(leader);
            int follower = (leaderIndex + 1) % 3;
            RaftStatus fs = c.store(follower).status();
            assertEquals(leader.selfId(), fs.leaderId());
            assertEquals(leader.address(), fs.leaderAddress());
            assertTrue(fs.lastContactMillis() >= 0 && fs.lastContactMillis() < 5_000, fs.toString());
            assertEquals(3, fs.peers().size());

            // 64 pipelined writes through a follower, and the leader goes away while they are in flight.
            List<CompletableFuture<Applied>> inFlight = writeAll(c.store(follower), "flight/", 64, acked, failed);
            c.stop(leaderIndex);
            awaitAll(inFlight);

            RaftStore newLeader = c.awaitLeader();
            assertNotEquals(leader.selfId(), newLeader.selfId());

            // Writes resume, through both survivors.
            int before = acked.size();
            for (RaftStore s : c.runningStores()) {
                awaitAll(writeAll(s, "after/" + s.selfId() + "/", 10, acked, new AtomicInteger()));
            }
            assertEquals(before + 20, acked.size(), "all writes after the failover are acknowledged");

            // Every acknowledged write is on every surviving member.
            for (RaftStore s : c.runningStores()) {
                s.readBarrier().get(WAIT, TimeUnit.SECONDS);
                for (Map.Entry<String, String> e : acked.entrySet()) {
                    KvEntry got = s.read(v -> v.get(e.getKey()));
                    assertNotNull(got, s.selfId() + " lacks acknowledged key " + e.getKey());
                    assertEquals(e.getValue(), new String(got.value(), StandardCharsets.UTF_8));
                }
            }
        }
    }

    @Test
    void withoutQuorumWritesAndBarriersFailFastWithNoLeaderThenRecover() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3,
                cfg -> cfg.withRequestTimeout(Duration.ofSeconds(2)))) {
            RaftStore leader = c.awaitLeader();
            int survivor = c.indexOf(leader);
            for (int i = 0; i < 3; i++) {
                if (i != survivor) {
                    c.stop(i);
                }
            }
            RaftStore alone = c.store(survivor);
            long start = System.nanoTime();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> alone.submit(set("x", "y")).get(WAIT, TimeUnit.SECONDS));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertInstanceOf(NoLeaderException.class, e.getCause(), e.toString());
            assertTrue(tookMs < 6_000, "gave up after " + tookMs + " ms");

            ExecutionException r = assertThrows(ExecutionException.class,
                    () -> alone.readBarrier().get(WAIT, TimeUnit.SECONDS));
            assertInstanceOf(NoLeaderException.class, r.getCause(), r.toString());
            // The local view still answers.
            assertEquals(0, (int) alone.read(v -> v.kvCount()));

            // Once a quorum is back, the same store (and its Raft client) works again.
            for (int i = 0; i < 3; i++) {
                if (i != survivor) {
                    c.restart(i);
                }
            }
            c.awaitLeader();
            Applied ok = alone.submit(set("x", "z")).get(WAIT, TimeUnit.SECONDS);
            assertEquals(Result.TRUE, ok.result());
            alone.readBarrier().get(WAIT, TimeUnit.SECONDS);
            assertEquals("z", new String(alone.read(v -> v.get("x")).value(), StandardCharsets.UTF_8));
        }
    }
}
