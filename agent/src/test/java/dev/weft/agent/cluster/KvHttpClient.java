package dev.weft.agent.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** The few Consul HTTP calls the cluster test makes, against 127.0.0.1:&lt;port&gt;. Thread-safe. */
final class KvHttpClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "it-http");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1))
            .executor(executor)
            .build();
    private final Duration timeout;

    KvHttpClient(Duration timeout) {
        this.timeout = timeout;
    }

    record Response(int status, String body) {
    }

    Response send(String method, int port, String pathAndQuery, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(timeout)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Response(r.statusCode(), r.body());
    }

    /** {@code /v1/status/leader}: the leader's Raft address, "" when this member knows none, null on error. */
    String leader(int port) {
        try {
            Response r = send("GET", port, "/v1/status/leader", null);
            if (r.status() != 200) {
                return null;
            }
            return JSON.readTree(r.body()).asText("");
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** {@code PUT /v1/kv/<key>}: true only when the agent answered 200 {@code true}. */
    boolean put(int port, String key, String value) throws InterruptedException {
        try {
            Response r = send("PUT", port, "/v1/kv/" + key, value);
            return r.status() == 200 && r.body().trim().equals("true");
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * {@code GET /v1/kv/<prefix>?recurse[&<consistency>]} as key → value; empty on 404.
     *
     * @throws IOException on any other status or a transport error
     */
    Map<String, String> recurse(int port, String prefix, String consistency) throws IOException, InterruptedException {
        String q = "/v1/kv/" + prefix + "?recurse" + (consistency.isEmpty() ? "" : "&" + consistency);
        Response r = send("GET", port, q, null);
        Map<String, String> out = new LinkedHashMap<>();
        if (r.status() == 404) {
            return out;
        }
        if (r.status() != 200) {
            throw new IOException("GET " + q + " on port " + port + ": HTTP " + r.status() + " " + r.body());
        }
        for (JsonNode e : JSON.readTree(r.body())) {
            JsonNode v = e.get("Value");
            out.put(e.get("Key").asText(), v == null || v.isNull() ? ""
                    : new String(Base64.getDecoder().decode(v.asText()), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** {@code GET /v1/kv/<prefix>?keys[&<consistency>]}: the keys under a prefix; empty on 404. */
    java.util.Set<String> keys(int port, String prefix, String consistency) throws IOException, InterruptedException {
        String q = "/v1/kv/" + prefix + "?keys" + (consistency.isEmpty() ? "" : "&" + consistency);
        Response r = send("GET", port, q, null);
        java.util.Set<String> out = new java.util.HashSet<>();
        if (r.status() == 404) {
            return out;
        }
        if (r.status() != 200) {
            throw new IOException("GET " + q + " on port " + port + ": HTTP " + r.status() + " " + r.body());
        }
        for (JsonNode k : JSON.readTree(r.body())) {
            out.add(k.asText());
        }
        return out;
    }

    /** {@code GET /v1/agent/metrics?format=prometheus}: the value of the first sample matching all fragments. */
    double metric(int port, String name, String... labelFragments) throws IOException, InterruptedException {
        Response r = send("GET", port, "/v1/agent/metrics?format=prometheus", null);
        if (r.status() != 200) {
            throw new IOException("metrics on port " + port + ": HTTP " + r.status());
        }
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                boolean all = true;
                for (String f : labelFragments) {
                    all &= line.contains(f);
                }
                if (all) {
                    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return Double.NaN;
    }

    JsonNode json(int port, String pathAndQuery) throws IOException, InterruptedException {
        Response r = send("GET", port, pathAndQuery, null);
        if (r.status() != 200) {
            throw new IOException("GET " + pathAndQuery + " on port " + port + ": HTTP " + r.status() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
