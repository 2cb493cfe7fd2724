package dev.weft.chaos.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A small blocking HTTP client for the Consul-style API (JDK HttpClient, HTTP/1.1). */
final class Http {
    /** A response: status, body and the X-Consul-Index header (-1 when absent). */
    record Response(int status, String body, long index) {
        boolean ok() {
            return status == 200;
        }
    }

    private final HttpClient client;
    private final Duration timeout;

    Http(Duration timeout) {
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout).build();
    }

    Response get(int port, String pathAndQuery) throws IOException {
        return send(port, pathAndQuery, HttpRequest.newBuilder().GET(), timeout);
    }

    Response get(int port, String pathAndQuery, Duration requestTimeout) throws IOException {
        return send(port, pathAndQuery, HttpRequest.newBuilder().GET(), requestTimeout);
    }

    Response put(int port, String pathAndQuery, String body) throws IOException {
        return send(port, pathAndQuery, HttpRequest.newBuilder()
                .PUT(HttpRequest.BodyPublishers.ofString(body == null ? "" : body, StandardCharsets.UTF_8)), timeout);
    }

    /** A request without a body (e.g. DELETE). */
    Response send(String method, int port, String pathAndQuery) throws IOException {
        return send(port, pathAndQuery, HttpRequest.newBuilder().method(method, HttpRequest.BodyPublishers.noBody()),
                timeout);
    }

    private Response send(int port, String pathAndQuery, HttpRequest.Builder b, Duration requestTimeout)
            throws IOException {
        HttpRequest req = b.uri(URI.create("http://127.0.0.1:" + port + pathAndQuery)).timeout(requestTimeout)
                .build();
        try {
            HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            long index = r.headers().firstValue("X-Consul-Index").map(Long::parseLong).orElse(-1L);
            return new Response(r.statusCode(), r.body(), index);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
