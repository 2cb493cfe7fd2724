package dev.weft.agent.http;

import java.util.function.Supplier;

/**
 * What a read found, taken under the store's read lock: the index to report and how to render the answer
 * (rendering runs after the lock is released).
 */
record ReadResult(long index, Supplier<ApiResponse> render) {
}
