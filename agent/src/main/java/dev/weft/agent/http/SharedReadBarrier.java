package dev.weft.agent.http;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Lets concurrent consistent reads share Raft read barriers. A read is linearizable if it waits for a barrier
 * that <em>started after the read arrived</em>; so a read that arrives while no barrier runs starts one, and
 * reads that arrive while one is in flight all wait for the single next barrier, started as soon as the current
 * one completes. At most one barrier is in flight; under load each one serves every read that queued behind it.
 */
final class SharedReadBarrier {
    private final Supplier<CompletableFuture<Void>> barrier;
    private final Object lock = new Object();
    private boolean inFlight;
    private CompletableFuture<Void> queued;

    SharedReadBarrier(Supplier<CompletableFuture<Void>> barrier) {
        this.barrier = barrier;
    }

    /** Completes once a barrier that started after this call has completed (or fails with its failure). */
    CompletableFuture<Void> await() {
        CompletableFuture<Void> result;
        boolean start = false;
        synchronized (lock) {
            if (!inFlight) {
                inFlight = true;
                start = true;
                result = new CompletableFuture<>();
            } else {
                if (queued == null) {
                    queued = new CompletableFuture<>();
                }
                result = queued;
            }
        }
        if (start) {
            launch(result);
        }
        return result;
    }

    private void launch(CompletableFuture<Void> group) {
        CompletableFuture<Void> b;
        try {
            b = barrier.get();
        } catch (RuntimeException e) {
            b = CompletableFuture.failedFuture(e);
        }
        b.whenComplete((v, err) -> {
            CompletableFuture<Void> next;
            synchronized (lock) {
                next = queued;
                queued = null;
                if (next == null) {
                    inFlight = false;
                }
            }
            if (err != null) {
                group.completeExceptionally(err);
            } else {
                group.complete(null);
            }
            if (next != null) {
                launch(next);
            }
        });
    }
}
