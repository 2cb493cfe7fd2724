package dev.weft.kvstore.raft;

import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.codec.CommandCodec;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Result;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * Group commit for proposals. Ratis appends one entry at a time under its server lock, which caps a 3-server
 * cluster on 2 cores at about a thousand entries per second; so concurrent proposals are packed into one
 * {@code Command.Batch} entry. At most {@code maxInFlight} entries are outstanding; while they are, new
 * proposals queue up and leave together as the next entry. Under light load every proposal leaves at once,
 * alone, so latency does not change; under heavy load batches grow and the entry rate stays flat.
 *
 * <p>Owns no thread: callers drive it, and replies are handled on the executor it is given, never on the Raft
 * client's reply thread (which holds the client's window lock: sending the next batch from there through
 * another client deadlocks two clients against each other). Thread-safe.
 */
final class ProposalBatcher {

    private record Pending(byte[] encoded, CompletableFuture<Applied> future) {
        int bytes() {
            return encoded.length;
        }
    }

    private final Function<byte[], CompletableFuture<Applied>> sender;
    private final int maxInFlight;
    private final int maxCommands;
    private final int maxBytes;
    private final Executor replies;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int inFlight;
    private long entries;
    private long proposals;

    /**
     * @param sender      proposes one encoded command as one Raft entry
     * @param maxInFlight entries outstanding at once
     * @param maxCommands commands per batch entry
     * @param maxBytes    encoded bytes per batch entry (a larger single command still leaves alone)
     * @param replies     where replies are handled and the next batch is sent
     */
    ProposalBatcher(Function<byte[], CompletableFuture<Applied>> sender, int maxInFlight, int maxCommands,
                    int maxBytes, Executor replies) {
        this.sender = sender;
        this.maxInFlight = maxInFlight;
        this.maxCommands = maxCommands;
        this.maxBytes = maxBytes;
        this.replies = replies;
    }

    /** Queues one command, encoded with {@link CommandCodec#encode}. */
    CompletableFuture<Applied> submit(byte[] encoded) {
        CompletableFuture<Applied> future = new CompletableFuture<>();
        List<Pending> batch;
        synchronized (this) {
            queue.add(new Pending(encoded, future));
            batch = takeBatch();
        }
        if (batch != null) {
            send(batch);
        }
        return future;
    }

    /** Entries proposed and commands carried, for the average batch size metric. */
    synchronized long[] counts() {
        return new long[]{entries, proposals};
    }

    synchronized int queued() {
        return queue.size();
    }

    /** Under the lock: the next batch to send, or null when the queue is empty or the window is full. */
    private List<Pending> takeBatch() {
        if (queue.isEmpty() || inFlight >= maxInFlight) {
            return null;
        }
        List<Pending> batch = new ArrayList<>();
        int bytes = 0;
        while (!queue.isEmpty() && batch.size() < maxCommands) {
            Pending next = queue.peek();
            if (!batch.isEmpty() && bytes + next.bytes() > maxBytes) {
                break;
            }
            batch.add(queue.poll());
            bytes += next.bytes();
        }
        inFlight++;
        entries++;
        proposals += batch.size();
        return batch;
    }

    private void send(List<Pending> batch) {
        CompletableFuture<Applied> sent;
        try {
            byte[] entry = batch.size() == 1
                    ? batch.get(0).encoded()
                    : CommandCodec.encodeBatch(batch.stream().map(Pending::encoded).toList());
            sent = sender.apply(entry);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenCompleteAsync((applied, error) -> {
            List<Pending> next;
            synchronized (this) {
                inFlight--;
                next = takeBatch();
            }
            complete(batch, applied, error);
            if (next != null) {
                send(next);
            }
        }, replies);
    }

    private static void complete(List<Pending> batch, Applied applied, Throwable error) {
        if (error != null) {
            batch.forEach(p -> p.future().completeExceptionally(error));
            return;
        }
        if (batch.size() == 1) {
            batch.get(0).future().complete(applied);
            return;
        }
        if (!(applied.result() instanceof Result.Batch results) || results.results().size() != batch.size()) {
            StoreException bad = new StoreException("batch reply does not match its " + batch.size() + " commands",
                    null);
            batch.forEach(p -> p.future().completeExceptionally(bad));
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).future().complete(new Applied(applied.index(), results.results().get(i), Set.of(), false));
        }
    }
}
