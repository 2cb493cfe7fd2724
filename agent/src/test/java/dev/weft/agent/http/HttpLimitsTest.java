package dev.weft.agent.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test per HTTP limit of {@link HttpLimits} and the store's limits on the HTTP path: each refusal has its own
 * status and message, and the refused size is never sent (a declared Content-Length with no body is answered
 * at once, so nothing of that size can have been buffered). The API runs on an in-memory store, on 127.0.0.1.
 */
class HttpLimitsTest {
    private InMemoryStore store;
    private PrometheusMeterRegistry registry;
    private HttpApiServer server;
    private Http http;

    @BeforeEach
    void start() throws Exception {
        store = new InMemoryStore();
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AgentInfo info = new AgentInfo("limits-node", "dc1", true, "test", "", "127.0.0.1", 1);
        server = HttpApiServer.start(store, info, registry, "127.0.0.1", 0);
        http = new Http("http://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Sends raw bytes and reads until the server closes the connection (every refusal closes it). */
    private String exchange(InetAddress from, String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port(), from, 0)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return Http.readUntilClosed(s.getInputStream());
        }
    }

    private String exchange(String request) throws IOException {
        return exchange(InetAddress.getLoopbackAddress(), request);
    }

    private static String body(String response) {
        int i = response.indexOf("\r\n\r\n");
        return i < 0 ? "" : response.substring(i + 4);
    }

    private static void assertRefused(String response, int status, String message) {
        // a request the codec cannot read is answered as HTTP/1.0 (its version is unknown)
        assertTrue(response.matches("(?s)HTTP/1\\.[01] " + status + " .*"), response);
        assertEquals(message, body(response), response);
        assertTrue(response.toLowerCase().contains("connection: close"), response);
    }

    @Test
    void requestLineOverTheLimitIs414() throws Exception {
        String path = "/v1/kv/" + "a".repeat(HttpLimits.MAX_REQUEST_LINE_BYTES);
        assertRefused(exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414,
                "Request-URI too long: the request line is limited to 16384 bytes");
        // just under the limit is served (a key that long is the store's business: 400)
        String under = "/v1/kv/" + "a".repeat(HttpLimits.MAX_REQUEST_LINE_BYTES - 100);
        assertEquals(400, http.get(under).status());
    }

    @Test
    void headersOverTheLimitAre431() throws Exception {
        StringBuilder req = new StringBuilder("GET /v1/kv/k HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 40; i++) {
            req.append("X-Filler-").append(i).append(": ").append("v".repeat(500)).append("\r\n");
        }
        assertRefused(exchange(req.append("\r\n").toString()), 431,
                "Request header fields too large: headers are limited to 16384 bytes in all");
        assertEquals(404, http.get("/v1/kv/k").status(), "the server keeps answering");
    }

    @Test
    void bodyOverTheRouteLimitIs413BeforeItIsSent() throws Exception {
        // Content-Length alone: the body is never sent, so the answer cannot come from buffering it.
        assertRefused(exchange("PUT /v1/session/create HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"),
                413, "Request body too large, max size: 1048576 bytes");
        assertRefused(exchange("PUT /v1/txn HTTP/1.1\r\nHost: x\r\nContent-Length: 4194305\r\n\r\n"),
                413, "Request body too large, max size: 4194304 bytes");
    }

    @Test
    void valueOverTheLimitIs413BeforeItIsSent() throws Exception {
        assertRefused(exchange("PUT /v1/kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 524289\r\n\r\n"),
                413, "Request body(524289 bytes) too large, max size: 524288 bytes.");
        assertEquals(404, http.get("/v1/kv/big").status());
    }

    @Test
    void keyOverTheLimitIs400BeforeTheValueIsSent() throws Exception {
        String key = "k".repeat(513);
        assertRefused(exchange("PUT /v1/kv/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Length: 524288\r\n\r\n"),
                400, "Key too long: 513 bytes, max 512");
        // without a body the endpoint answers the same (and keeps the connection)
        Http.Resp r = http.put("/v1/kv/" + key, (String) null);
        assertEquals(400, r.status());
        assertEquals("Key too long: 513 bytes, max 512", r.body());
        assertEquals("true", http.put("/v1/kv/" + "k".repeat(512), "v").body(), "exactly the limit is accepted");
    }

    @Test
    void transactionOverTheOperationLimitIs413() throws Exception {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 300; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"KV\":{\"Verb\":\"set\",\"Key\":\"t").append(i)
                    .append("\",\"Value\":\"dg==\"}}");
        }
        Http.Resp r = http.put("/v1/txn", sb.append(']').toString());
        assertEquals(413, r.status());
        assertEquals("Transaction contains too many operations (300 > 128)", r.body());
        assertEquals(404, http.get("/v1/kv/t0").status(), "nothing of it was applied");
        assertEquals(0, TxnEndpoint.countOperations("{\"not\":\"an array\"}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(2, TxnEndpoint.countOperations("[{\"KV\":{\"a\":[1,2,[3]]}},[]]"
                .getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void httpVersionsOtherThanOneAre505() throws Exception {
        // found by HttpRequestFuzzTest: the answer used to be written as "HTTP/0.1 404 Not Found"
        String resp = exchange("GET /v1/kv/k HTTP/0.1\r\nHost: x\r\n\r\n");
        assertRefused(resp, 505, "HTTP version not supported: HTTP/0.1 (HTTP/1.1 and HTTP/1.0 are)");
        assertTrue(resp.startsWith("HTTP/1.1 505 "), resp);
        assertTrue(exchange("GET /v1/kv/k HTTP/1.0\r\n\r\n").startsWith("HTTP/1.0 404 "), "1.0 is served");
    }

    @Test
    void malformedUrlEscapeIs400NotADroppedConnection() throws Exception {
        String resp = exchange("GET /v1/kv/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(resp.startsWith("HTTP/1.1 400 "), resp);
        assertTrue(body(resp).startsWith("Bad request: invalid URL: "), resp);
    }

    private double waiting() {
        return registry.get("weft.http.blocking.queries").gauge().value();
    }

    private void awaitWaiting(double n) {
        dev.weft.kvstore.testing.Poll.until(Duration.ofSeconds(10),
                () -> n + " waiting blocking queries (have " + waiting() + ")", () -> waiting() == n);
    }

    @Test
    void blockingQueriesPerClientAddressAreCappedWith429() throws Exception {
        server.limitBlockingPerClient(3);
        assertEquals("true", http.put("/v1/kv/watched", "v1").body());
        long index = http.get("/v1/kv/watched").index();
        String blocking = "/v1/kv/watched?index=" + index + "&wait=1m";

        List<CompletableFuture<Http.Resp>> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            waiters.add(http.sendAsync("GET", blocking, null));
        }
        awaitWaiting(3);

        Http.Resp refused = http.get(blocking);
        assertEquals(429, refused.status());
        assertEquals("Your IP is issuing too many concurrent blocking queries (limit 3), please rate limit your calls",
                refused.body());
        assertEquals(1.0, registry.get("weft.http.blocking.refused").counter().count());
        assertEquals(200, http.get("/v1/kv/watched").status(), "a read that does not wait is still served");

        // another client address has its own count
        try (Socket other = new Socket(InetAddress.getLoopbackAddress(), server.port(),
                InetAddress.getByName("127.0.0.2"), 0)) {
            other.setSoTimeout(200);
            other.getOutputStream().write(("GET " + blocking + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            awaitWaiting(4);
            try {
                int b = other.getInputStream().read();
                throw new AssertionError("127.0.0.2's blocking query answered early: " + b);
            } catch (SocketTimeoutException expected) {
                // still waiting
            }
            assertEquals("true", http.put("/v1/kv/watched", "v2").body());
            for (CompletableFuture<Http.Resp> w : waiters) {
                assertEquals(200, w.get(10, TimeUnit.SECONDS).status());
            }
            other.setSoTimeout(10_000);
            byte[] head = other.getInputStream().readNBytes(12);
            assertEquals("HTTP/1.1 200", new String(head, StandardCharsets.US_ASCII));
        }
        awaitWaiting(0);

        // the slots are free again
        long next = http.get("/v1/kv/watched").index();
        CompletableFuture<Http.Resp> again = http.sendAsync("GET", "/v1/kv/watched?index=" + next + "&wait=1m", null);
        awaitWaiting(1);
        assertFalse(again.isDone());
        assertEquals("true", http.put("/v1/kv/watched", "v3").body());
        assertEquals(200, again.get(10, TimeUnit.SECONDS).status());
    }
}
