package dev.weft.kvstore.raft;

import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class SessionExpiryTest {
    @TempDir
    Path dir;

    private static Command.SessionCreate session(String id, long ttlMillis, long nowMillis) {
        return new Command.SessionCreate(id, "test", "node0", ttlMillis, 0, Session.Behavior.RELEASE, nowMillis);
    }

    @Test
    void leaderExpiresSessionsPastTheirDeadline() throws Exception {
        try (RaftCluster c = RaftCluster.start(dir, 1, cfg -> cfg)) {
            RaftStore s = c.awaitLeader();
            long now = System.currentTimeMillis();
            Result dead = s.submit(session("dead", 10_000, now - 60_000)).get(15, TimeUnit.SECONDS).result();
            assertNotNull(assertInstanceOf(Result.SessionValue.class, dead).session());
            s.submit(session("live", 3_600_000, now)).get(15, TimeUnit.SECONDS);

            RaftCluster.await(Duration.ofSeconds(10), () -> s.read(v -> v.session("dead")) == null,
                    () -> "the leader to expire session 'dead'");
            assertNotNull(s.read(v -> v.session("live")), "a session within its TTL stays");
        }
    }

    @Test
    void expiryUsesTheInjectedClock() throws Exception {
        Clock twoHoursAhead = Clock.offset(Clock.systemUTC(), Duration.ofHours(2));
        try (RaftCluster c = RaftCluster.start(dir, 1, cfg -> cfg, twoHoursAhead)) {
            RaftStore s = c.awaitLeader();
            s.submit(session("s1", 3_600_000, System.currentTimeMillis())).get(15, TimeUnit.SECONDS);
            RaftCluster.await(Duration.ofSeconds(10), () -> s.read(v -> v.session("s1")) == null,
                    () -> "the leader's clock (2 h ahead) to expire a 1 h session");
        }
    }
}
