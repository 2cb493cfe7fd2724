package dev.weft.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A small JDK HttpClient wrapper for the API tests. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    Http(String base) {
        this.base = base;
    }

    record Resp(int status, byte[] bytes, java.net.http.HttpHeaders headers) {
        String body() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return JSON.readTree(bytes);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body(), e);
            }
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        long index() {
            return Long.parseLong(headers.firstValue("X-Consul-Index").orElseThrow(
                    () -> new AssertionError("no X-Consul-Index header")));
        }
    }

    private HttpRequest request(String method, String path, byte[] body) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
    }

    Resp send(String method, String path, byte[] body) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = client.send(request(method, path, body), HttpResponse.BodyHandlers.ofByteArray());
        return new Resp(r.statusCode(), r.body(), r.headers());
    }

    CompletableFuture<Resp> sendAsync(String method, String path, byte[] body) {
        return client.sendAsync(request(method, path, body), HttpResponse.BodyHandlers.ofByteArray())
                .thenApply(r -> new Resp(r.statusCode(), r.body(), r.headers()));
    }

    Resp get(String path) throws IOException, InterruptedException {
        return send("GET", path, null);
    }

    Resp put(String path, String body) throws IOException, InterruptedException {
        return send("PUT", path, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    Resp put(String path, byte[] body) throws IOException, InterruptedException {
        return send("PUT", path, body);
    }

    Resp delete(String path) throws IOException, InterruptedException {
        return send("DELETE", path, null);
    }

    /** Everything a raw socket's server sends until it closes the connection (a reset after it counts as closed). */
    static String readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        try {
            int n;
            while ((n = in.read(b)) > 0) {
                buf.write(b, 0, n);
            }
        } catch (java.net.SocketException reset) {
            // closed by the server after its answer
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
