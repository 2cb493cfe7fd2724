package dev.weft.kvstore.codec;

import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Result;

/**
 * Binary encoding of commands (Raft log entries) and of results (Raft replies). Compact, versioned by a
 * leading tag byte; decoding rejects unknown tags and truncated input with {@link IllegalArgumentException}.
 */
public final class CommandCodec {
    private CommandCodec() {
    }

    public static byte[] encode(Command command) {
        throw new IllegalStateException("pending");
    }

    public static Command decode(byte[] bytes) {
        throw new IllegalStateException("pending");
    }

    public static byte[] encodeResult(Result result) {
        throw new IllegalStateException("pending");
    }

    public static Result decodeResult(byte[] bytes) {
        throw new IllegalStateException("pending");
    }
}
