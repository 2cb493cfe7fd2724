package dev.weft.agent.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** An answer before it is written: status, content type, body bytes and extra headers. */
final class ApiResponse {
    static final String JSON = "application/json";
    static final String TEXT = "text/plain; charset=utf-8";

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);

    private final int status;
    private final String contentType;
    private final byte[] body;
    private final List<String[]> headers = new ArrayList<>(6);

    ApiResponse(int status, String contentType, byte[] body) {
        this.status = status;
        this.contentType = contentType;
        this.body = body;
    }

    static ApiResponse json(byte[] body) {
        return new ApiResponse(200, JSON, body);
    }

    static ApiResponse json(int status, byte[] body) {
        return new ApiResponse(status, JSON, body);
    }

    static ApiResponse bool(boolean value) {
        return new ApiResponse(200, JSON, value ? TRUE : FALSE);
    }

    static ApiResponse text(int status, String message) {
        return new ApiResponse(status, TEXT, message.getBytes(StandardCharsets.UTF_8));
    }

    /** A status with no body (Consul's 404 for a missing key). */
    static ApiResponse empty(int status) {
        return new ApiResponse(status, null, new byte[0]);
    }

    ApiResponse header(String name, String value) {
        headers.add(new String[] {name, value});
        return this;
    }

    int status() {
        return status;
    }

    String contentType() {
        return contentType;
    }

    byte[] body() {
        return body;
    }

    List<String[]> headers() {
        return headers;
    }
}
