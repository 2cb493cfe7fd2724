package dev.weft.agent.http;

import dev.weft.kvstore.NoLeaderException;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.KvState;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * Test double: applies commands straight to a {@link KvState} with an incrementing index and fires watches, as
 * a one-member cluster would. {@link #setLeader(boolean)} simulates losing quorum.
 */
final class InMemoryStore implements ReplicatedStore {
    private final KvState state = new KvState();
    private final Watches watches = new Watches();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile boolean leader = true;
    private long index;

    void setLeader(boolean leader) {
        this.leader = leader;
    }

    @Override
    public CompletableFuture<Applied> submit(Command command) {
        if (!leader) {
            return CompletableFuture.failedFuture(new NoLeaderException("no leader", null));
        }
        Applied applied;
        lock.writeLock().lock();
        try {
            applied = state.apply(++index, command);
        } finally {
            lock.writeLock().unlock();
        }
        watches.fire(applied);
        return CompletableFuture.completedFuture(applied);
    }

    @Override
    public CompletableFuture<Void> readBarrier() {
        return leader ? CompletableFuture.completedFuture(null)
                : CompletableFuture.failedFuture(new NoLeaderException("no leader", null));
    }

    @Override
    public <T> T read(Function<KvReadView, T> reader) {
        lock.readLock().lock();
        try {
            return reader.apply(state);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Watches watches() {
        return watches;
    }

    @Override
    public RaftStatus status() {
        boolean l = leader;
        return new RaftStatus("mem-1", l ? "mem-1" : "", l ? "127.0.0.1:1" : "", l, l, 1, index, index,
                l ? 0 : -1, List.of(new RaftStatus.Peer("mem-1", "127.0.0.1:1", true)));
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String peerId) {
        return CompletableFuture.failedFuture(new IllegalStateException("single member"));
    }

    @Override
    public CompletableFuture<Void> removePeer(String peerId) {
        return CompletableFuture.failedFuture(new IllegalStateException("single member"));
    }

    @Override
    public CompletableFuture<Long> takeSnapshot() {
        return CompletableFuture.completedFuture(index);
    }

    @Override
    public void close() {
    }
}
