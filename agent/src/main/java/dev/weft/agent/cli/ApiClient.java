package dev.weft.agent.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The CLI's client of the agent's HTTP API, on the JDK's {@link HttpClient}. The address comes from
 * {@code -http-addr}, then {@code WEFT_HTTP_ADDR}, then {@code CONSUL_HTTP_ADDR}, then 127.0.0.1:8500; the ACL token
 * from {@code -token}, then {@code WEFT_HTTP_TOKEN}, then {@code CONSUL_HTTP_TOKEN}.
 */
public final class ApiClient {
    public static final String DEFAULT_ADDR = "127.0.0.1:8500";

    private final URI base;
    private final HttpClient http;
    private final String token;

    public ApiClient(String addr) {
        this(addr, "");
    }

    /** @param token ACL token sent as {@code X-Consul-Token} with every request ("" or null: none) */
    public ApiClient(String addr, String token) {
        this(addr, token, null);
    }

    /** As {@link #ApiClient(String, String)}; with {@code tls} not null, HTTPS uses it (CA, client certificate). */
    public ApiClient(String addr, String token, javax.net.ssl.SSLContext tls) {
        this.token = token == null ? "" : token;
        String a = addr.contains("://") ? addr : "http://" + addr;
        while (a.endsWith("/")) {
            a = a.substring(0, a.length() - 1);
        }
        this.base = URI.create(a);
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5));
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    /** Resolves the agent address from the option value and the environment. */
    public static String resolveAddress(String option, Map<String, String> env) {
        if (option != null && !option.isBlank()) {
            return option;
        }
        for (String var : new String[] {"WEFT_HTTP_ADDR", "CONSUL_HTTP_ADDR"}) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return DEFAULT_ADDR;
    }

    /** Resolves the ACL token from the option value, then {@code WEFT_HTTP_TOKEN}, then {@code CONSUL_HTTP_TOKEN}. */
    public static String resolveToken(String option, Map<String, String> env) {
        if (option != null && !option.isBlank()) {
            return option;
        }
        for (String var : new String[] {"WEFT_HTTP_TOKEN", "CONSUL_HTTP_TOKEN"}) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return "";
    }

    public URI base() {
        return base;
    }

    /** An HTTP answer. */
    public record Response(int status, byte[] body, java.net.http.HttpHeaders headers) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8).strip();
        }

        public boolean ok() {
            return status / 100 == 2;
        }

        /** X-Consul-Index, or 0 when absent. */
        public long index() {
            return headers.firstValue("X-Consul-Index").map(Long::parseLong).orElse(0L);
        }
    }

    public Response get(String pathAndQuery) throws InterruptedException {
        return send("GET", pathAndQuery, null);
    }

    public Response put(String pathAndQuery, byte[] body) throws InterruptedException {
        return send("PUT", pathAndQuery, body);
    }

    public Response delete(String pathAndQuery) throws InterruptedException {
        return send("DELETE", pathAndQuery, null);
    }

    public Response post(String pathAndQuery) throws InterruptedException {
        return send("POST", pathAndQuery, null);
    }

    public Response send(String method, String pathAndQuery, byte[] body) throws InterruptedException {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(body);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).method(method, publisher);
        if (!token.isEmpty()) {
            b.header("X-Consul-Token", token);
        }
        HttpRequest req = b.build();
        try {
            HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.body(), r.headers());
        } catch (ConnectException e) {
            throw new CliFailure("Error connecting to weft agent at " + base + ": connection refused");
        } catch (IOException e) {
            throw new CliFailure("Error talking to weft agent at " + base + ": " + e);
        }
    }

    /** Fails with the agent's message unless the answer is 2xx. */
    public static Response check(Response r, String what) {
        if (!r.ok()) {
            String msg = r.text();
            throw new CliFailure("Error! " + what + ": " + (msg.isEmpty() ? "HTTP " + r.status() : msg)
                    + " (" + r.status() + ")");
        }
        return r;
    }

    /** Percent-encodes a KV key for a URL path, keeping '/' separators. */
    public static String encodePath(String key) {
        StringBuilder sb = new StringBuilder(key.length() + 8);
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~' || c == '/') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    public static String encodeQuery(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
