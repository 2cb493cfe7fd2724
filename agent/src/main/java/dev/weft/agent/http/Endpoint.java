package dev.weft.agent.http;

import java.util.concurrent.CompletableFuture;

/**
 * Handles the requests of one route. Runs on the channel's event loop and must not block it: proposals and read
 * barriers are futures, and the returned future completes with the answer (or an {@link HttpError}).
 */
@FunctionalInterface
interface Endpoint {
    CompletableFuture<ApiResponse> handle(ApiRequest request);
}
