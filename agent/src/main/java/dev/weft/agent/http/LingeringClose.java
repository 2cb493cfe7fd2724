package dev.weft.agent.http;

import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;

import java.util.concurrent.TimeUnit;

/**
 * Ends a connection whose client may still be sending: the output is shut down (the answer, then FIN), and the
 * channel is closed when the client closes or after a grace period. Closing at once with unread input makes the
 * kernel reset the connection, and a client still writing its request then fails on the reset ("Broken pipe",
 * "Connection reset") without reading the answer that explains why. What arrives meanwhile must be dropped by
 * the caller's handler.
 */
final class LingeringClose {
    private LingeringClose() {
    }

    /** Starts the lingering close; false when the channel cannot have one (closed, or not duplex). */
    static boolean start(Channel ch, long graceMillis) {
        if (!(ch instanceof DuplexChannel duplex) || !ch.isActive()) {
            return false;
        }
        duplex.shutdownOutput();
        // closed below the pipeline's handlers: one of them may be holding the close back (TlsRefusalLinger)
        var timer = ch.eventLoop().schedule(() -> ch.unsafe().close(ch.voidPromise()), graceMillis,
                TimeUnit.MILLISECONDS);
        ch.closeFuture().addListener(f -> timer.cancel(false));
        return true;
    }
}
