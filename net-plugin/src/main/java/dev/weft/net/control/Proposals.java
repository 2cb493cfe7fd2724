package dev.weft.net.control;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.TxnOp;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * Synchronous writes and reads of the store for the control plane: propose and wait, read barrier, and
 * read-your-writes (after a write, the local view is brought up to the write's index before returning).
 */
final class Proposals {
    /** Above the store's own request timeout (7 s): the store fails first, with its clearer message. */
    private static final long WAIT_SECONDS = 30;

    private final ReplicatedStore store;
    private final Clock clock;

    Proposals(ReplicatedStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    ReplicatedStore store() {
        return store;
    }

    Clock clock() {
        return clock;
    }

    <T> T read(Function<KvReadView, T> reader) {
        return store.read(reader);
    }

    /** Waits until the local view holds everything committed before the call. */
    void barrier() {
        await(store.readBarrier(), "read barrier");
    }

    /**
     * Proposes {@code command}; once committed, waits until the local view has applied it.
     *
     * @throws StoreException when the store fails or does not answer in time (the write may still happen)
     */
    Applied submit(Command command) {
        Applied applied = await(store.submit(command), command.getClass().getSimpleName());
        if (store.read(KvReadView::lastIndex) < applied.index()) {
            barrier();
        }
        return applied;
    }

    /** Runs a transaction; a rollback is a normal answer ({@link Result.Txn#committed()} false). */
    Result.Txn txn(List<TxnOp> ops) {
        Result r = submit(new Command.Txn(ops, clock.millis())).result();
        if (r instanceof Result.Txn t) {
            return t;
        }
        throw new IllegalStateException("transaction refused: " + r);
    }

    /** True when a KV write or delete answered true. */
    boolean bool(Command command) {
        Result r = submit(command).result();
        if (r instanceof Result.Bool b) {
            return b.value();
        }
        throw new IllegalStateException(command.getClass().getSimpleName() + " refused: " + r);
    }

    /** Index of the first failed operation of a rolled-back transaction. */
    static int failedOp(Result.Txn t) {
        return t.errors().isEmpty() ? -1 : t.errors().get(0).opIndex();
    }

    /** A short random pause after losing a race, growing with the attempt, so that contenders spread out. */
    static void backOff(int attempt) {
        long bound = Math.min(50, 1L << Math.min(attempt, 6));
        try {
            TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(bound + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted", e);
        }
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f, String what) {
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted waiting for " + what, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new StoreException(what + " failed: " + cause, cause);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new StoreException(what + " did not complete in " + WAIT_SECONDS + " s (it may still apply)", e);
        }
    }
}
