package dev.weft.agent.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharedReadBarrierTest {
    private final List<CompletableFuture<Void>> started = new ArrayList<>();
    private final SharedReadBarrier barrier = new SharedReadBarrier(() -> {
        CompletableFuture<Void> f = new CompletableFuture<>();
        started.add(f);
        return f;
    });

    @Test
    void aReadArrivingDuringABarrierWaitsForTheNextOne() {
        CompletableFuture<Void> first = barrier.await();
        assertEquals(1, started.size());
        CompletableFuture<Void> second = barrier.await();
        CompletableFuture<Void> third = barrier.await();
        assertEquals(1, started.size(), "at most one barrier in flight");

        started.get(0).complete(null);
        assertTrue(first.isDone());
        assertFalse(second.isDone(), "the barrier in flight started before the second read arrived");
        assertEquals(2, started.size(), "the queued reads got a barrier of their own");

        started.get(1).complete(null);
        assertTrue(second.isDone() && third.isDone(), "one barrier served both queued reads");
        CompletableFuture<Void> later = barrier.await();
        assertEquals(3, started.size(), "idle again: a new read starts a barrier at once");
        started.get(2).complete(null);
        assertTrue(later.isDone());
    }

    @Test
    void failuresReachTheReadsOfThatBarrierOnly() {
        CompletableFuture<Void> first = barrier.await();
        CompletableFuture<Void> second = barrier.await();
        started.get(0).completeExceptionally(new IllegalStateException("no leader"));
        assertTrue(first.isCompletedExceptionally());
        assertFalse(second.isDone());
        started.get(1).complete(null);
        assertTrue(second.isDone() && !second.isCompletedExceptionally());
    }
}
