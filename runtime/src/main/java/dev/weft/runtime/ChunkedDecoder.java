package dev.weft.runtime;

import java.io.IOException;

/**
 * Incremental decoder of HTTP/1.1 chunked transfer-encoding: bytes go in as they arrive, split anywhere, and
 * the chunks' data comes out. Chunk extensions and trailers are read and dropped.
 */
final class ChunkedDecoder {
    /** A chunk-size line longer than this is not HTTP. */
    private static final int MAX_LINE = EngineLimits.MAX_CHUNK_LINE_BYTES;

    private enum State { SIZE, EXTENSION, DATA, DATA_END, TRAILER, DONE }

    /** Receives decoded body bytes; the array is only valid during the call. */
    interface Sink {
        void accept(byte[] b, int off, int len) throws IOException;
    }

    private State state = State.SIZE;
    private long size;
    private int digits;
    private long remaining;
    private int lineLength;

    /** True once the last (zero-size) chunk and the trailer section have been read. */
    boolean done() {
        return state == State.DONE;
    }

    /**
     * Decodes {@code len} bytes from {@code b[off]}; returns how many were consumed (fewer than {@code len} only
     * when the body ended: the rest belongs to no chunk).
     */
    int feed(byte[] b, int off, int len, Sink sink) throws IOException {
        int i = off;
        int end = off + len;
        while (i < end && state != State.DONE) {
            switch (state) {
                case SIZE -> {
                    byte c = b[i++];
                    int v = hex(c);
                    if (v >= 0) {
                        if (++digits > 15) {
                            throw new IOException("chunked encoding: chunk size too large");
                        }
                        size = size * 16 + v;
                    } else if (c == ';' || c == ' ' || c == '\t') {
                        state = State.EXTENSION;
                    } else if (c == '\r') {
                        state = State.EXTENSION;
                    } else if (c == '\n') {
                        endOfSizeLine();
                    } else {
                        throw new IOException("chunked encoding: bad chunk size byte 0x" + Integer.toHexString(c & 0xff));
                    }
                }
                case EXTENSION -> {
                    byte c = b[i++];
                    if (c == '\n') {
                        endOfSizeLine();
                    } else if (++lineLength > MAX_LINE) {
                        throw new IOException("chunked encoding: chunk-size line too long");
                    }
                }
                case DATA -> {
                    int n = (int) Math.min(remaining, end - i);
                    sink.accept(b, i, n);
                    i += n;
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.DATA_END;
                    }
                }
                case DATA_END -> {
                    byte c = b[i++];
                    if (c == '\n') {
                        resetLine();
                        state = State.SIZE;
                    } else if (c != '\r') {
                        throw new IOException("chunked encoding: no CRLF after chunk data");
                    }
                }
                case TRAILER -> {
                    byte c = b[i++];
                    if (c == '\n') {
                        if (lineLength == 0) {
                            state = State.DONE;
                        }
                        lineLength = 0;
                    } else if (c != '\r' && ++lineLength > MAX_LINE) {
                        throw new IOException("chunked encoding: trailer line too long");
                    }
                }
                default -> throw new IllegalStateException(state.toString());
            }
        }
        return i - off;
    }

    private void endOfSizeLine() throws IOException {
        if (digits == 0) {
            throw new IOException("chunked encoding: empty chunk size");
        }
        remaining = size;
        resetLine();
        state = remaining == 0 ? State.TRAILER : State.DATA;
    }

    private void resetLine() {
        size = 0;
        digits = 0;
        lineLength = 0;
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
