package dev.weft.runtime;

import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Finds the boundaries of JSON objects written back to back (with or without whitespace or newlines between
 * them), from bytes that arrive split at arbitrary points: the framing of Docker's {@code /events} stream. It
 * tracks brace depth outside strings (escapes included), so a brace inside a string never ends an object.
 * Multi-byte UTF-8 never contains an ASCII byte, so scanning bytes is safe.
 */
final class JsonObjectSplitter {
    private final int maxObjectBytes;
    private byte[] buf;
    private int len;
    private int depth;
    private boolean inString;
    private boolean escaped;

    JsonObjectSplitter(int maxObjectBytes) {
        this.maxObjectBytes = maxObjectBytes;
        this.buf = new byte[Math.min(4096, maxObjectBytes)];
    }

    /** Consumes bytes; hands every object completed by them, as its own array, to {@code out}. */
    void feed(byte[] b, int off, int n, Consumer<byte[]> out) throws IOException {
        for (int i = off; i < off + n; i++) {
            byte c = b[i];
            if (depth == 0) {
                if (c == '{') {
                    depth = 1;
                    len = 0;
                    append(c);
                } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    throw new IOException("event stream: expected '{' between objects, got byte 0x"
                            + Integer.toHexString(c & 0xff));
                }
                continue;
            }
            append(c);
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                out.accept(Arrays.copyOf(buf, len));
                len = 0;
            }
        }
    }

    /** True when no object is partly read. */
    boolean idle() {
        return depth == 0;
    }

    private void append(byte c) throws IOException {
        if (len == buf.length) {
            if (len >= maxObjectBytes) {
                throw new IOException("event stream: object larger than " + maxObjectBytes + " bytes");
            }
            buf = Arrays.copyOf(buf, Math.min(maxObjectBytes, len * 2));
        }
        buf[len++] = c;
    }
}
