package dev.weft.agent.catalog;

import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.testing.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A graceful leave marks the node critical ("Agent left the cluster"). A heartbeat turns it back to passing, so
 * one still in flight when the agent leaves must commit before the mark: before the fix, the heartbeat's late
 * commit revived a node that had left (seen in ServerLeaveIT).
 */
class LeaveMarkTest {
    private static final Duration WITHIN = Duration.ofSeconds(20);

    @Test
    void aHeartbeatInFlightDoesNotReviveANodeThatLeft() throws Exception {
        SlowHeartbeatStore store = new SlowHeartbeatStore();
        CatalogNode self = new CatalogNode("leaver", "", "127.0.0.1", Map.of(), Map.of(), 0, 0);
        LocalAgentState local = new LocalAgentState(self, store, new LocalAgentState.Settings(Duration.ofMinutes(5),
                Duration.ofMinutes(1), Duration.ofMillis(50), Duration.ofSeconds(5)), null, new SimpleMeterRegistry());
        try {
            local.start();
            Poll.until(WITHIN, () -> "the node registered and passing", () ->
                    health(store) == HealthStatus.PASSING);
            store.heartbeatsCommitAfterMillis = 300; // from now on, each heartbeat takes 300 ms to commit
            Poll.until(WITHIN, () -> "a slow heartbeat in flight", () -> store.slowHeartbeatsSent > 0);
            local.close(true);
            // every heartbeat sent has committed (none is sent after close), so the state is final
            Poll.until(WITHIN, () -> "the slow heartbeats to commit", () ->
                    store.slowHeartbeatsCommitted == store.slowHeartbeatsSent);
            assertEquals(HealthStatus.CRITICAL, health(store), "the node that left");
        } finally {
            local.close(false);
        }
    }

    private static HealthStatus health(SlowHeartbeatStore store) {
        CatalogCheck c = store.read(v -> v.catalog().check("leaver", CatalogView.NODE_HEALTH_CHECK));
        return c == null ? null : c.status();
    }

    /** Applies commands to a {@link KvState} in order of arrival, except heartbeats once they are made slow. */
    private static final class SlowHeartbeatStore implements ReplicatedStore {
        private final KvState state = new KvState();
        private final Watches watches = new Watches();
        private long index;
        volatile long heartbeatsCommitAfterMillis;
        volatile int slowHeartbeatsSent;
        volatile int slowHeartbeatsCommitted;

        @Override
        public CompletableFuture<Applied> submit(Command command) {
            long delay = heartbeatsCommitAfterMillis;
            if (command instanceof Command.NodeHeartbeat && delay > 0) {
                synchronized (this) {
                    slowHeartbeatsSent++;
                }
                Executor later = CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS);
                return CompletableFuture.supplyAsync(() -> {
                    Applied a = apply(command);
                    synchronized (this) {
                        slowHeartbeatsCommitted++;
                    }
                    return a;
                }, later);
            }
            return CompletableFuture.completedFuture(apply(command));
        }

        private synchronized Applied apply(Command command) {
            try {
                return state.apply(++index, command);
            } catch (RuntimeException e) {
                throw new CompletionException(e);
            }
        }

        @Override
        public CompletableFuture<Void> readBarrier() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public synchronized <T> T read(Function<KvReadView, T> reader) {
            return reader.apply(state);
        }

        @Override
        public Watches watches() {
            return watches;
        }

        @Override
        public RaftStatus status() {
            return new RaftStatus("self", "self", "127.0.0.1:0", true, true, 1, index, index, 0, List.of());
        }

        @Override
        public CompletableFuture<Void> transferLeadership(String peerId) {
            return CompletableFuture.failedFuture(new UnsupportedOperationException());
        }

        @Override
        public CompletableFuture<Void> removePeer(String peerId) {
            return CompletableFuture.failedFuture(new UnsupportedOperationException());
        }

        @Override
        public CompletableFuture<Long> takeSnapshot() {
            return CompletableFuture.failedFuture(new UnsupportedOperationException());
        }

        @Override
        public void close() {
        }
    }
}
