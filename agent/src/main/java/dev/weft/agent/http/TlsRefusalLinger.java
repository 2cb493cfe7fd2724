package dev.weft.agent.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;

/**
 * Sits in front of the {@link SslHandler} (nearer the socket) and makes a refused TLS handshake end with a
 * {@link LingeringClose}: the alert goes out, the output is shut down, and what the client still sends is read
 * and dropped until it closes or {@value #LINGER_MILLIS} ms pass.
 *
 * <p>Why: under TLS 1.3 a client's handshake is over before the server has checked the client's certificate, so
 * the client sends its last handshake flight and its first request without waiting. A server that closes at once
 * leaves those bytes unread or makes them arrive at a closed socket, and the kernel answers with a reset. The reset
 * can reach the client before it reads the alert: the client then reports "Connection reset" or "Broken pipe"
 * instead of {@code bad_certificate}, and an operator cannot tell a refused certificate from a network fault.
 */
final class TlsRefusalLinger extends ChannelDuplexHandler {
    static final long LINGER_MILLIS = 2_000;
    private boolean lingering;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (lingering) {
            // the decoder's exception and the handlers behind it close again: the channel closes when lingering ends
            ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
            return;
        }
        if (handshakeFailed(ctx)) {
            ctx.flush();
            if (LingeringClose.start(ctx.channel(), LINGER_MILLIS)) { // the alert, then FIN
                lingering = true;
                ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
                return;
            }
        }
        ctx.close(promise);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg); // what the client sent after the refusal
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private static boolean handshakeFailed(ChannelHandlerContext ctx) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        return tls != null && tls.handshakeFuture().isDone() && !tls.handshakeFuture().isSuccess();
    }
}
