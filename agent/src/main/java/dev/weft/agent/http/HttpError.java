package dev.weft.agent.http;

/**
 * An HTTP error answer with Consul's status code and plain-text message. Thrown by request parsing and
 * validation; turned into a response by the channel handler. Carries no stack trace.
 */
final class HttpError extends RuntimeException {
    private final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }

    static HttpError badRequest(String message) {
        return new HttpError(400, message);
    }

    static HttpError notFound(String message) {
        return new HttpError(404, message);
    }

    static HttpError tooLarge(String message) {
        return new HttpError(413, message);
    }
}
