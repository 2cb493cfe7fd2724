package dev.weft.agent.http;

import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.state.StateCodec;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;

/**
 * {@code GET /v1/snapshot} answers the whole state in {@link StateCodec}'s format (after a read barrier unless
 * {@code ?stale}); {@code PUT /v1/snapshot} checks such a body and replaces the state with it through Raft
 * ({@link Command.Restore}). Encoding and checking run on the server's blocking executor, not on an event loop.
 * Unlike Consul, the format is weft's own, not Consul's gzipped tar archive.
 */
final class SnapshotEndpoint implements Endpoint {
    static final String PATH = "/v1/snapshot";
    /**
     * Body limit of a restore, the only endpoint that accepts bodies this large: a restore is one Raft entry, so
     * the limit is the Raft entry limit less room for the command's framing.
     */
    static final int MAX_RESTORE_BYTES = RaftStore.MAX_ENTRY_BYTES - 64 * 1024;

    private final ApiContext ctx;

    SnapshotEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        if (req.method().name().equals("PUT")) {
            return restore(req);
        }
        QueryOptions opts = QueryOptions.parse(req);
        CompletableFuture<Void> barrier = opts.consistency() == QueryOptions.Consistency.STALE
                ? CompletableFuture.completedFuture(null)
                : ctx.readBarrier.await();
        return barrier.thenApplyAsync(v -> save(), ctx.blockingExecutor)
                .thenApply(s -> ctx.queries.withReadHeaders(
                        new ApiResponse(200, "application/octet-stream", s.bytes), s.index, opts.consistency()));
    }

    private record Saved(long index, byte[] bytes) {
    }

    private Saved save() {
        return ctx.store.read(view -> {
            if (!(view instanceof KvState state)) {
                throw new HttpError(500, "snapshots are not supported by this store");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(1024, (int) Math.min(
                    Integer.MAX_VALUE - 16, view.kvValueBytes() + 128L * view.kvCount())));
            try {
                StateCodec.write(state, out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Saved(view.lastIndex(), out.toByteArray());
        });
    }

    private CompletableFuture<ApiResponse> restore(ApiRequest req) {
        byte[] body = req.body();
        if (body.length == 0) {
            throw HttpError.badRequest("Missing snapshot body");
        }
        return CompletableFuture.runAsync(() -> {
            try {
                StateCodec.read(new ByteArrayInputStream(body));
            } catch (IOException | RuntimeException e) {
                throw HttpError.badRequest("Invalid snapshot: " + e.getMessage());
            }
        }, ctx.blockingExecutor).thenCompose(v -> ctx.submit(req, new Command.Restore(body))).thenApply(a -> {
            ApiContext.result(a);
            return ApiResponse.empty(200);
        });
    }
}
