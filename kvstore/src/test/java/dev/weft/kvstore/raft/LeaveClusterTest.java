package dev.weft.kvstore.raft;

import dev.weft.kvstore.RaftStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.weft.kvstore.raft.SingleNodeRaftStoreTest.set;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server's graceful leave ({@link RaftStore#leaveCluster}): it leaves the Raft configuration, so the others no
 * longer need it for a quorum; the only server stays; a server that left rejoins when it starts again.
 */
class LeaveClusterTest {
    @TempDir
    Path dir;

    @Test
    void followerThenLeaderLeaveAndTheLastServerStillCommits() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 3, cfg -> cfg)) {
            RaftStore leader = c.awaitLeader();
            leader.submit(set("before", "1")).get(20, TimeUnit.SECONDS);
            RaftStore follower = c.runningStores().stream().filter(s -> s != leader).findFirst().orElseThrow();
            int followerIndex = c.indexOf(follower);

            assertTrue(follower.leaveCluster(), "a follower of three leaves");
            assertEquals(peerIds(c.runningStores().stream().filter(s -> s != follower).toList()),
                    peerIds(leader.status()), "the leader's configuration after the follower left");
            c.stop(followerIndex);
            leader.submit(set("two-of-two", "1")).get(20, TimeUnit.SECONDS);

            // The leader leaves too: the last server leads a cluster of one and commits alone. Without the
            // removals, one server of three could not commit anything.
            int leaderIndex = c.indexOf(leader);
            assertTrue(leader.leaveCluster(), "the leader of two leaves");
            c.stop(leaderIndex);
            RaftStore last = c.runningStores().get(0);
            RaftCluster.await(RaftCluster.DEADLINE, () -> last.status().isLeader(),
                    () -> "the last server to lead: " + last.status());
            assertEquals(Set.of(last.selfId()), peerIds(last.status()));
            last.submit(set("alone", "1")).get(20, TimeUnit.SECONDS);

            assertFalse(last.leaveCluster(), "the only server stays in the configuration");
            assertEquals(Set.of(last.selfId()), peerIds(last.status()));
            last.submit(set("still-alone", "1")).get(20, TimeUnit.SECONDS);

            // The follower that left starts again from its data directory and rejoins.
            RaftStore back = c.restart(followerIndex);
            RaftCluster.await(RaftCluster.DEADLINE, () -> peerIds(last.status()).equals(
                    Set.of(last.selfId(), back.selfId())), () -> "the returning server in the configuration: "
                    + last.status());
            back.readBarrier().get(20, TimeUnit.SECONDS);
            assertNotNull(back.read(v -> v.get("still-alone")), "the returning server caught up");
            back.submit(set("rejoined", "1")).get(20, TimeUnit.SECONDS);
            assertNotNull(last.read(v -> v.get("rejoined")));
        }
    }

    @Test
    void aSingleServerStays() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 1, cfg -> cfg)) {
            RaftStore only = c.awaitLeader();
            assertFalse(only.leaveCluster());
            only.submit(set("k", "v")).get(20, TimeUnit.SECONDS);
        }
    }

    private static Set<String> peerIds(RaftStatus st) {
        return st.peers().stream().map(RaftStatus.Peer::id).collect(Collectors.toSet());
    }

    private static Set<String> peerIds(List<RaftStore> stores) {
        return stores.stream().map(RaftStore::selfId).collect(Collectors.toSet());
    }
}
