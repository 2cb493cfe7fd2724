package dev.weft.kvstore;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Futures waiting for a local view to reach an index (read barriers, read-your-writes). The owner calls
 * {@link #complete} after every apply; a waiter that is cancelled or failed by its caller is removed. Thread-safe;
 * futures complete on the thread that calls {@link #complete}, so callers hand heavy work off.
 */
public final class AppliedWaiters {
    private final TreeMap<Long, List<CompletableFuture<Void>>> waiting = new TreeMap<>();
    private final LongSupplier applied;

    /** @param applied the view's current index */
    public AppliedWaiters(LongSupplier applied) {
        this.applied = applied;
    }

    /** Completes once the view's index reaches {@code index}. */
    public CompletableFuture<Void> await(long index) {
        CompletableFuture<Void> f;
        synchronized (waiting) {
            if (applied.getAsLong() >= index) {
                return CompletableFuture.completedFuture(null);
            }
            f = new CompletableFuture<>();
            waiting.computeIfAbsent(index, k -> new ArrayList<>()).add(f);
        }
        f.whenComplete((v, t) -> {
            if (t != null) {
                synchronized (waiting) {
                    List<CompletableFuture<Void>> list = waiting.get(index);
                    if (list != null && list.remove(f) && list.isEmpty()) {
                        waiting.remove(index);
                    }
                }
            }
        });
        return f;
    }

    /** Completes every waiter at or below the view's current index. */
    public void complete() {
        List<CompletableFuture<Void>> due = new ArrayList<>();
        synchronized (waiting) {
            if (waiting.isEmpty()) {
                return;
            }
            Map<Long, List<CompletableFuture<Void>>> head = waiting.headMap(applied.getAsLong(), true);
            head.values().forEach(due::addAll);
            head.clear();
        }
        due.forEach(f -> f.complete(null));
    }

    /** Fails every waiter (the view is closing). */
    public void failAll(Throwable cause) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        synchronized (waiting) {
            waiting.values().forEach(all::addAll);
            waiting.clear();
        }
        all.forEach(f -> f.completeExceptionally(cause));
    }
}
