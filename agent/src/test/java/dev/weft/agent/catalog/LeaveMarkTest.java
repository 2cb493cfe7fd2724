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
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A graceful leave marks the node critical ("Agent left the cluster"). A heartbeat turns it back to passing, so
 * one still in flight when the agent leaves must commit before the mark: before the fix, the heartbeat's late
 * commit revived a node that had left (seen in ServerLeaveIT). Likewise the first sync's registration, which
 * carries a passing serfHealth: a server that left within a second of starting was shown passing, or not at all
 * (seen in CI's ServerLeaveIT on 2026-12-07).
 */
class LeaveMarkTest {
    private static final Duration WITHIN = Duration.ofSeconds(20);

    @Test
    void aHeartbeatInFlightDoesNotReviveANodeThatLeft() throws Exception {
        SlowStore store = new SlowStore();
        LocalAgentState local = leaver(store);
        try {
            local.start();
            Poll.until(WITHIN, () -> "the node registered and passing", () ->
                    health(store) == HealthStatus.PASSING);
            store.delay = c -> c instanceof Command.NodeHeartbeat ? 300 : 0; // from now on heartbeats are slow
            Poll.until(WITHIN, () -> "a slow heartbeat in flight", () -> store.slowSent > 0);
            local.close(true);
            // every write sent has committed (none is sent after close), so the state is final
            Poll.until(WITHIN, () -> "the slow writes to commit", () -> store.slowCommitted == store.slowSent);
            assertEquals(HealthStatus.CRITICAL, health(store), "the node that left");
        } finally {
            local.close(false);
        }
    }

    @Test
    void anAgentThatLeavesBeforeItsFirstSyncCommittedShowsAsLeft() throws Exception {
        SlowStore store = new SlowStore();
        // The first round's registration (node + passing serfHealth) commits well after the first heartbeat
        // (which finds the node missing).
        store.delay = c -> c instanceof Command.CatalogRegister r && r.checks().stream()
                .allMatch(k -> k.status() == HealthStatus.PASSING) ? 600 : 100;
        LocalAgentState local = leaver(store);
        try {
            local.start();
            Poll.until(WITHIN, () -> "the first registration in flight", () -> store.slowRegistersSent > 0);
            local.close(true);
            Poll.until(WITHIN, () -> "the slow writes to commit", () -> store.slowCommitted == store.slowSent);
            assertEquals(HealthStatus.CRITICAL, health(store), "the node that left");
        } finally {
            local.close(false);
        }
    }

    /** The agent state of node "leaver": heartbeats every 50 ms, sync rounds far apart. */
    private static LocalAgentState leaver(SlowStore store) {
        CatalogNode self = new CatalogNode("leaver", "", "127.0.0.1", Map.of(), Map.of(), 0, 0);
        return new LocalAgentState(self, store, new LocalAgentState.Settings(Duration.ofMinutes(5),
                Duration.ofMinutes(1), Duration.ofMillis(50), Duration.ofSeconds(5)), null, new SimpleMeterRegistry());
    }

    private static HealthStatus health(SlowStore store) {
        CatalogCheck c = store.read(v -> v.catalog().check("leaver", CatalogView.NODE_HEALTH_CHECK));
        return c == null ? null : c.status();
    }

    /** Applies commands to a {@link KvState}, each after its {@link #delay} (in order of arrival when 0). */
    private static final class SlowStore implements ReplicatedStore {
        private final KvState state = new KvState();
        private final Watches watches = new Watches();
        private long index;
        volatile ToLongFunction<Command> delay = c -> 0;
        volatile int slowSent;
        volatile int slowRegistersSent;
        volatile int slowCommitted;

        @Override
        public CompletableFuture<Applied> submit(Command command) {
            long millis = delay.applyAsLong(command);
            if (millis > 0) {
                synchronized (this) {
                    slowSent++;
                    if (command instanceof Command.CatalogRegister) {
                        slowRegistersSent++;
                    }
                }
                Executor later = CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS);
                return CompletableFuture.supplyAsync(() -> {
                    try {
                        return apply(command);
                    } finally {
                        synchronized (this) {
                            slowCommitted++;
                        }
                    }
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
