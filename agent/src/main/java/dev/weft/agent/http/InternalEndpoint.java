package dev.weft.agent.http;

import dev.weft.kvstore.NoLeaderException;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.codec.CommandCodec;
import dev.weft.kvstore.feed.ChangeFeed;
import dev.weft.kvstore.feed.FeedProtocol;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.state.StateCodec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The servers' side of client agents ({@link FeedProtocol}): the feed of committed commands (a blocking query
 * on "anything changed" whose answer is the entries after the reader's index, or the whole state), forwarded
 * proposals and read barriers. Agents that are not servers answer 400.
 */
final class InternalEndpoint implements Endpoint {
    private final ApiContext ctx;

    InternalEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        ChangeFeed feed = ctx.store.feed();
        if (feed == null || !ctx.agent.server()) {
            throw HttpError.badRequest("This agent is not a server: client agents follow a server, not each other");
        }
        if (ctx.internalNeedsTls && !req.secure()) {
            throw new HttpError(403, "Client agents must use HTTPS with a client certificate: this server has "
                    + "-verify-incoming; /v1/internal/ is refused on the plain HTTP port");
        }
        switch (req.path()) {
            case FeedProtocol.FEED:
                return feed(req, feed);
            case FeedProtocol.APPLY:
                return apply(req);
            case FeedProtocol.BARRIER:
                return ctx.store.readBarrier().thenApply(v -> ApiResponse.empty(200)
                        .header("X-Consul-Index", Long.toString(ctx.store.read(KvReadView::lastIndex))))
                        .exceptionally(InternalEndpoint::noLeader503);
            default:
                throw HttpError.notFound("404 page not found");
        }
    }

    private CompletableFuture<ApiResponse> feed(ApiRequest req, ChangeFeed feed) {
        if (!req.has("index")) {
            throw HttpError.badRequest("Missing index");
        }
        long from;
        try {
            from = Long.parseLong(req.param("index"));
        } catch (NumberFormatException e) {
            throw HttpError.badRequest("Invalid index");
        }
        if (from < 0) {
            throw HttpError.badRequest("Invalid index");
        }
        boolean wantSnapshot = req.has("snapshot");
        long through = 0;
        if (req.has(FeedProtocol.THROUGH)) {
            try {
                through = Long.parseLong(req.param(FeedProtocol.THROUGH));
            } catch (NumberFormatException e) {
                throw HttpError.badRequest("Invalid " + FeedProtocol.THROUGH);
            }
        }
        long wanted = through;
        return ctx.queries.serveLocal(req, view -> {
            // Under the read lock: the feed cannot move while this answer is put together.
            ChangeFeed.Slice slice = wantSnapshot ? null : feed.after(from, FeedProtocol.MAX_ANSWER_BYTES);
            String servers = FeedProtocol.encodeServers(servers(view, req.secure()));
            if (slice == null) {
                long at = view.lastIndex();
                byte[] body = snapshot(view);
                return new ReadResult(wantSnapshot && at == from ? at + 1 : at,
                        () -> headers(new ApiResponse(200, "application/octet-stream", body),
                                FeedProtocol.KIND_SNAPSHOT, servers));
            }
            List<ChangeFeed.Entry> entries = slice.entries();
            // Heartbeat-only entries do not end the wait: they go out with the next other entry, or when the
            // wait times out (the answer then carries them). Otherwise every heartbeat of every agent would wake
            // every client's feed.
            // A client waiting for an index (?through=N) is answered as soon as the entries reach it.
            boolean reached = wanted > 0 && slice.upTo() >= wanted;
            long wake = slice.quiet() && !reached ? from : slice.upTo();
            return new ReadResult(wake, () -> headers(new ApiResponse(200, "application/octet-stream",
                    FeedProtocol.encodeEntries(entries)), FeedProtocol.KIND_ENTRIES, servers));
        });
    }

    private ApiResponse headers(ApiResponse r, String kind, String servers) {
        RaftStatus st = ctx.store.status();
        return r.header(FeedProtocol.H_KIND, kind)
                .header(FeedProtocol.H_LEADER, st.knownLeader() ? st.leaderId() + " " + st.leaderAddress() : "")
                .header(FeedProtocol.H_TERM, Long.toString(st.term()))
                .header(FeedProtocol.H_SERVERS, servers);
    }

    /**
     * The Raft configuration with each server's HTTP address (its HTTPS address when {@code secure}), from the
     * catalog node meta servers publish.
     */
    private List<FeedProtocol.Server> servers(KvReadView view, boolean secure) {
        Map<String, String> httpByRaft = new HashMap<>();
        for (CatalogNode n : view.catalog().nodes()) {
            String raft = n.meta().get(FeedProtocol.META_RAFT_ADDR);
            String http = n.meta().get(secure ? FeedProtocol.META_HTTPS_ADDR : FeedProtocol.META_HTTP_ADDR);
            if (raft != null && http != null) {
                httpByRaft.put(raft, http);
            }
        }
        List<FeedProtocol.Server> out = new ArrayList<>();
        for (RaftStatus.Peer p : ctx.store.status().peers()) {
            out.add(new FeedProtocol.Server(p.id(), p.address(), httpByRaft.getOrDefault(p.address(), ""),
                    p.voter()));
        }
        return out;
    }

    private static byte[] snapshot(KvReadView view) {
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
        return out.toByteArray();
    }

    private CompletableFuture<ApiResponse> apply(ApiRequest req) {
        Command command;
        try {
            command = CommandCodec.decode(req.body());
        } catch (RuntimeException e) {
            throw HttpError.badRequest("Invalid command: " + e.getMessage());
        }
        return ctx.submit(req, command).thenApply(a -> new ApiResponse(200, "application/octet-stream",
                CommandCodec.encodeResult(a.result())).header("X-Consul-Index", Long.toString(a.index())))
                .exceptionally(InternalEndpoint::noLeader503);
    }

    /** "No cluster leader" as 503, so that a client tells it from other failures; anything else unchanged. */
    private static ApiResponse noLeader503(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof NoLeaderException) {
            return ApiResponse.text(503, "No cluster leader");
        }
        throw c instanceof RuntimeException re ? re : new CompletionException(c);
    }
}
