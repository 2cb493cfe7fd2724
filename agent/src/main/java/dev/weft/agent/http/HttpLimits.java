package dev.weft.agent.http;

import dev.weft.kvstore.raft.RaftStore;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpLineException;

/**
 * Every limit of the HTTP API in one place (the table in agent/README.md and the root README's "Limits"). Each
 * refusal has its own status and plain-text message, and none buffers the refused size first: the codec stops
 * reading a line at its limit, {@link BodyLimits} refuses a body by its Content-Length (or as it streams), a
 * transaction's operations are counted before its JSON tree is built, and a blocking query over the per-client
 * cap is refused before it arms any watch or timer. The store's own limits (key, value, operations) are in
 * kvstore's {@code Limits}.
 */
final class HttpLimits {
    /** The request line (method, URL, version): longer answers 414. */
    static final int MAX_REQUEST_LINE_BYTES = 16 * 1024;
    /** All header lines together: more answers 431. */
    static final int MAX_HEADER_BYTES = 16 * 1024;
    /** Largest piece of a body the codec hands on at once (not a limit on the body). */
    static final int MAX_CHUNK_BYTES = 64 * 1024;
    /** Body of endpoints that take small JSON documents: more answers 413. */
    static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    /** Body of {@code PUT /v1/txn} (Consul's txn_max_req_len is configurable; ours is fixed). */
    static final int MAX_TXN_BODY_BYTES = 4 * 1024 * 1024;
    /** What the aggregator may ever hold: one Raft entry (the snapshot restore and internal routes). */
    static final int MAX_AGGREGATED_BYTES = RaftStore.MAX_ENTRY_BYTES;
    /**
     * Blocking queries waiting at once from one client IP address; one more answers 429. Consul caps whole
     * connections per client IP at 200 ({@code http_max_conns_per_client}); weft caps only waiting blocking
     * queries, each of which holds a connection, a watch and a timer.
     */
    static final int MAX_BLOCKING_PER_CLIENT = 256;
    /** Pipelined requests queued on one connection before reading pauses (back-pressure, not a refusal). */
    static final int MAX_PIPELINED = 16;

    private HttpLimits() {
    }

    /** The answer to a request the codec could not decode: 414, 431 or 400, each with its message. */
    static ApiResponse undecodable(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return ApiResponse.text(414, "Request-URI too long: the request line is limited to "
                    + MAX_REQUEST_LINE_BYTES + " bytes");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return ApiResponse.text(431, "Request header fields too large: headers are limited to "
                    + MAX_HEADER_BYTES + " bytes in all");
        }
        return ApiResponse.text(400, "Bad request: " + (cause == null || cause.getMessage() == null
                ? "malformed HTTP request" : cause.getMessage()));
    }

    /** The answer to a request in an HTTP version other than 1.0 and 1.1: 505. */
    static ApiResponse unsupportedVersion(HttpVersion version) {
        return ApiResponse.text(505, "HTTP version not supported: " + version.text() + " (HTTP/1.1 and HTTP/1.0 are)");
    }

    /** The message of the 429 answer to a blocking query over {@link #MAX_BLOCKING_PER_CLIENT}. */
    static String tooManyBlocking(int max) {
        return "Your IP is issuing too many concurrent blocking queries (limit " + max
                + "), please rate limit your calls";
    }
}
