package dev.weft.agent.http;

import dev.weft.kvstore.NoLeaderException;
import dev.weft.kvstore.PermissionDeniedException;
import dev.weft.kvstore.StoreException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Per-connection request handling: routes each aggregated request, completes the answer from the endpoint's
 * future on the channel's event loop, and writes answers in request order (pipelined requests wait in a small
 * queue; reading pauses while it is full). Errors become Consul's plain-text answers without stack traces.
 */
final class HttpApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(HttpApiHandler.class);
    private static final int MAX_QUEUED = HttpLimits.MAX_PIPELINED;

    private final Router router;
    private final RequestTimers timers;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private boolean busy;

    private record Pending(ApiRequest request, HttpVersion version, boolean keepAlive, FullHttpResponse failure) {
    }

    HttpApiHandler(Router router, RequestTimers timers) {
        this.router = router;
        this.timers = timers;
    }

    /** One latency timer per (method, path group, status, blocking), cached. */
    static final class RequestTimers {
        private final MeterRegistry registry;
        private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

        RequestTimers(MeterRegistry registry) {
            this.registry = registry;
        }

        void record(String method, String group, int status, boolean blocking, long nanos) {
            String key = method + ' ' + group + ' ' + status + ' ' + blocking;
            timers.computeIfAbsent(key, k -> Timer.builder("weft.http.requests")
                    .description("HTTP API request latency")
                    .tag("method", method)
                    .tag("path", group)
                    .tag("status", Integer.toString(status))
                    .tag("blocking", Boolean.toString(blocking))
                    .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.decoderResult().isFailure()) {
            // answered in the request's version only when it is one we speak (a broken head may name "HTTP/0.1")
            HttpVersion version = req.protocolVersion().majorVersion() == 1 ? req.protocolVersion()
                    : HttpVersion.HTTP_1_1;
            FullHttpResponse bad = response(version, HttpLimits.undecodable(req.decoderResult().cause()));
            bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            queue.add(new Pending(null, version, false, bad));
        } else if (req.protocolVersion().majorVersion() != 1) {
            // Netty reads any "HTTP/x.y"; answering in that version would make up a protocol (found by fuzzing)
            FullHttpResponse bad = response(HttpVersion.HTTP_1_1, HttpLimits.unsupportedVersion(req.protocolVersion()));
            bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            queue.add(new Pending(null, HttpVersion.HTTP_1_1, false, bad));
        } else {
            ApiRequest parsed;
            try {
                parsed = ApiRequest.from(req, ctx.channel());
            } catch (IllegalArgumentException e) {
                parsed = null;
                FullHttpResponse bad = response(req.protocolVersion(), ApiResponse.text(400,
                        "Bad request: invalid URL: " + e.getMessage()));
                bad.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                queue.add(new Pending(null, req.protocolVersion(), false, bad));
            }
            if (parsed != null) {
                queue.add(new Pending(parsed, req.protocolVersion(), keepAlive, null));
            }
        }
        if (queue.size() >= MAX_QUEUED) {
            ctx.channel().config().setAutoRead(false);
        }
        if (!busy) {
            next(ctx);
        }
    }

    private void next(ChannelHandlerContext ctx) {
        Pending p = queue.poll();
        if (p == null) {
            busy = false;
            if (!ctx.channel().config().isAutoRead()) {
                ctx.channel().config().setAutoRead(true);
            }
            return;
        }
        busy = true;
        if (p.failure() != null) {
            ctx.writeAndFlush(p.failure()).addListener(ChannelFutureListener.CLOSE);
            queue.clear();
            return;
        }
        long start = System.nanoTime();
        ApiRequest req = p.request();
        String method = req.method().name();
        Router.Route route = router.find(req.path());
        String group = route == null ? "unknown" : route.group();
        CompletableFuture<ApiResponse> answer;
        if (route == null) {
            answer = CompletableFuture.completedFuture(ApiResponse.text(404, "404 page not found"));
        } else if (!route.methods().contains(method)) {
            answer = CompletableFuture.completedFuture(ApiResponse.text(405, "method " + method + " not allowed")
                    .header("Allow", String.join(", ", new TreeSet<>(route.methods()))));
        } else {
            try {
                router.admit(route, req);
                answer = route.endpoint().handle(req);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
        }
        answer.whenComplete((resp, err) -> {
            if (ctx.executor().inEventLoop()) {
                complete(ctx, p, group, start, resp, err);
            } else {
                ctx.executor().execute(() -> complete(ctx, p, group, start, resp, err));
            }
        });
    }

    private void complete(ChannelHandlerContext ctx, Pending p, String group, long start, ApiResponse resp,
                          Throwable err) {
        if (!ctx.channel().isActive()) {
            queue.clear();
            return;
        }
        ApiResponse out = err == null ? resp : errorResponse(err);
        if (out == null) {
            ctx.close();
            return;
        }
        timers.record(p.request().method().name(), group, out.status(), p.request().has("index"),
                System.nanoTime() - start);
        FullHttpResponse r = response(p.version(), out);
        if (p.keepAlive()) {
            if (p.version().equals(HttpVersion.HTTP_1_0)) {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(r, ctx.voidPromise());
            next(ctx);
        } else {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            queue.clear();
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static FullHttpResponse response(HttpVersion version, ApiResponse out) {
        FullHttpResponse r = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(out.status()),
                Unpooled.wrappedBuffer(out.body()));
        HttpHeaders h = r.headers();
        if (out.contentType() != null) {
            h.set(HttpHeaderNames.CONTENT_TYPE, out.contentType());
        }
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, out.body().length);
        for (String[] kv : out.headers()) {
            h.add(kv[0], kv[1]);
        }
        return r;
    }

    /** Consul's error answers; null when the client went away and nothing should be written. */
    static ApiResponse errorResponse(Throwable err) {
        Throwable t = err;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof HttpError h) {
            return ApiResponse.text(h.status(), h.getMessage());
        }
        if (t instanceof NoLeaderException) {
            return ApiResponse.text(500, "No cluster leader");
        }
        if (t instanceof PermissionDeniedException) {
            return ApiResponse.text(403, t.getMessage());
        }
        if (t instanceof StoreException) {
            return ApiResponse.text(500, t.getMessage() == null ? "store error" : t.getMessage());
        }
        if (t instanceof CancellationException) {
            return null;
        }
        log.warn("HTTP API request failed", t);
        return ApiResponse.text(500, "Internal error: " + (t.getMessage() == null ? t.getClass().getSimpleName()
                : t.getMessage()));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection error from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
