package dev.weft.runtime;

/**
 * The limits on what weft reads from a container engine's API, in one place (runtime/README.md). Each is
 * checked as the bytes arrive, so a misbehaving engine (or something else on its socket) cannot make weft
 * allocate more than the limit: the request fails with an {@link java.io.IOException} naming it, and the event
 * stream reconnects.
 */
final class EngineLimits {
    /** The status line and headers of an answer. */
    static final int MAX_HEAD_BYTES = 64 * 1024;
    /** A whole (non-streamed) answer body. */
    static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    /** One JSON object of the {@code /events} stream. */
    static final int MAX_EVENT_BYTES = 1024 * 1024;
    /** A chunk-size line of a chunked body. */
    static final int MAX_CHUNK_LINE_BYTES = 4096;

    private EngineLimits() {
    }
}
