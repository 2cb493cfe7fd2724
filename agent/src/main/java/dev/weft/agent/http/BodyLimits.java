package dev.weft.agent.http;

import dev.weft.kvstore.state.Limits;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * Enforces each route's body limit before the aggregator buffers anything: a declared Content-Length over the
 * limit is refused with 413 at once (nothing of that size is allocated, and no "100 Continue" is sent); a chunked
 * body is counted as it streams and refused when it crosses the limit. The refused connection ends with the
 * answer and a lingering close ({@link LingeringClose}, up to {@value #LINGER_MILLIS} ms) while the rest of the
 * body is read and dropped, so that a client still sending its body reads the answer instead of a reset. A KV PUT
 * whose key the store would refuse (too long, leading '/', NUL) is answered 400 before its value is read.
 */
final class BodyLimits extends ChannelInboundHandlerAdapter {
    static final long LINGER_MILLIS = 5_000;
    private final Router router;
    /** A request was refused: everything that still arrives on this connection is dropped. */
    private boolean closing;
    private long limit;
    private long received;
    private String method;
    private Router.Route route;

    BodyLimits(Router router) {
        this.router = router;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest req) {
            received = 0;
            method = req.method().name();
            String uri = req.uri();
            int q = uri.indexOf('?');
            route = router.find(q < 0 ? uri : uri.substring(0, q));
            limit = route == null ? HttpLimits.DEFAULT_MAX_BODY_BYTES : route.maxBody(method);
            if (req.decoderResult().isFailure()) {
                ctx.fireChannelRead(msg);
                return;
            }
            long declared;
            try {
                declared = HttpUtil.getContentLength(req, -1L);
            } catch (NumberFormatException e) {
                refuse(ctx, HttpResponseStatus.BAD_REQUEST, "Bad request: invalid Content-Length");
                ReferenceCountUtil.release(msg);
                return;
            }
            if (declared > limit) {
                reject(ctx, declared);
                ReferenceCountUtil.release(msg);
                return;
            }
            String keyProblem = declared != 0 ? kvKeyProblem(uri) : null;
            if (keyProblem != null) {
                // the value of an unacceptable key is not worth reading (up to 512 KiB)
                refuse(ctx, HttpResponseStatus.BAD_REQUEST, keyProblem);
                ReferenceCountUtil.release(msg);
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            received += content.content().readableBytes();
            if (received > limit) {
                reject(ctx, received);
                ReferenceCountUtil.release(msg);
                return;
            }
            if (content instanceof LastHttpContent) {
                received = 0;
            }
        }
        ctx.fireChannelRead(msg);
    }

    /** For a KV PUT: the reason its key is refused (as {@link KvEndpoint} would answer), else null. */
    private String kvKeyProblem(String uri) {
        if (route == null || !route.group().equals("/v1/kv") || !method.equals("PUT")) {
            return null;
        }
        String path;
        try {
            path = new QueryStringDecoder(uri, StandardCharsets.UTF_8).path();
        } catch (IllegalArgumentException e) {
            return null; // answered 400 by the handler
        }
        String key = path.startsWith(KvEndpoint.PREFIX) ? path.substring(KvEndpoint.PREFIX.length()) : "";
        return Limits.checkKey(key, false);
    }

    private void reject(ChannelHandlerContext ctx, long size) {
        String message = route == null
                ? "Request body too large, max size: " + limit + " bytes"
                : route.tooLarge(method, size);
        refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, message);
    }

    /** Answers and ends the connection (a lingering close); the rest of the request is discarded. */
    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        closing = true;
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(message, StandardCharsets.UTF_8));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, ApiResponse.TEXT);
        resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resp.content().readableBytes());
        resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(resp).addListener(f -> {
            if (!LingeringClose.start(ctx.channel(), LINGER_MILLIS)) {
                ctx.channel().close();
            }
        });
    }
}
