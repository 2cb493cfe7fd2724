package dev.weft.kvstore.raft;

import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.state.Command;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class JoinTest {
    @TempDir
    Path dir;

    @Test
    void aServerWithoutBootstrapJoinsARunningCluster() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 1, cfg -> cfg)) {
            RaftStore first = c.awaitLeader();
            first.submit(new Command.KvSet("before", new byte[]{1}, 0, Command.NO_CAS)).get(20, TimeUnit.SECONDS);

            RaftConfig cfg = RaftConfig.defaults("joiner", dir.resolve("joiner"))
                    .withPort(RaftCluster.freePorts(1)[0])
                    .withJoin(List.of(first.address()), 0);
            try (RaftStore joiner = RaftStore.start(cfg, new SimpleMeterRegistry())) {
                RaftStatus st = joiner.status();
                assertEquals(2, st.peers().size(), st.toString());
                assertEquals(first.selfId(), st.leaderId());
                joiner.readBarrier().get(20, TimeUnit.SECONDS);
                assertNotNull(joiner.read(v -> v.get("before")));

                joiner.submit(new Command.KvSet("after", new byte[]{2}, 0, Command.NO_CAS)).get(20, TimeUnit.SECONDS);
                first.readBarrier().get(20, TimeUnit.SECONDS);
                assertNotNull(first.read(v -> v.get("after")));
                assertEquals(2, first.status().peers().size());

                // Leadership moves to a named peer and back to "any other" peer.
                first.transferLeadership(joiner.selfId()).get(20, TimeUnit.SECONDS);
                RaftCluster.await(RaftCluster.DEADLINE, () -> joiner.status().isLeader(),
                        () -> "the joiner to lead after the transfer");
                joiner.transferLeadership(null).get(20, TimeUnit.SECONDS);
                RaftCluster.await(RaftCluster.DEADLINE, () -> first.status().isLeader(),
                        () -> "the first server to lead again");

                // Removing the joiner again shrinks the configuration back to one server.
                first.removePeer(joiner.selfId()).get(20, TimeUnit.SECONDS);
                assertEquals(1, first.status().peers().size());
            }
        }
    }
}
