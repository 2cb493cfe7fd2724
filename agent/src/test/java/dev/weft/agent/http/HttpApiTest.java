package dev.weft.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.weft.agent.TestAgent.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP API against a real agent (Raft single server, Netty HTTP) on ephemeral loopback ports. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiTest {
    private TestAgent agent;
    private Http http;

    @BeforeAll
    void start() throws Exception {
        agent = TestAgent.start("api-node");
        http = new Http(agent.baseUrl());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    // ---- KV ----------------------------------------------------------------------------------------------

    @Test
    void kvPutGetDeleteWithConsulShapes() throws Exception {
        Http.Resp put = http.put("/v1/kv/crud/a", "hello");
        assertEquals(200, put.status());
        assertEquals("true", put.body());
        assertEquals("application/json", put.header("Content-Type"));

        Http.Resp get = http.get("/v1/kv/crud/a");
        assertEquals(200, get.status(), get.body());
        JsonNode e = get.json().get(0);
        assertEquals(List.of("LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"), fieldNames(e));
        assertEquals("crud/a", e.get("Key").asText());
        assertEquals(b64("hello"), e.get("Value").asText());
        assertEquals(0, e.get("LockIndex").asLong());
        assertEquals(e.get("ModifyIndex").asLong(), get.index());
        assertEquals("true", get.header("X-Consul-KnownLeader"));
        assertNotNull(get.header("X-Consul-LastContact"));
        assertEquals("leader", get.header("X-Consul-Effective-Consistency"));

        http.put("/v1/kv/crud/empty", "");
        assertTrue(http.get("/v1/kv/crud/empty").json().get(0).get("Value").isNull(), "empty value is null");

        assertEquals("true", http.delete("/v1/kv/crud/a").body());
        Http.Resp gone = http.get("/v1/kv/crud/a");
        assertEquals(404, gone.status());
        assertTrue(gone.index() >= get.index(), "404 carries X-Consul-Index");
    }

    @Test
    void recurseKeysSeparatorAndRaw() throws Exception {
        for (String k : List.of("tree/a/b/c", "tree/a/b/d", "tree/a/e", "tree/f")) {
            assertEquals("true", http.put("/v1/kv/" + k, "v-" + k).body());
        }
        JsonNode all = http.get("/v1/kv/tree/?recurse").json();
        assertEquals(4, all.size());
        assertEquals("tree/a/b/c", all.get(0).get("Key").asText());
        assertEquals("tree/f", all.get(3).get("Key").asText());

        JsonNode keys = http.get("/v1/kv/tree/?keys").json();
        assertEquals(4, keys.size());
        JsonNode folded = http.get("/v1/kv/tree/?keys&separator=/").json();
        assertEquals("[\"tree/a/\",\"tree/f\"]", folded.toString());

        Http.Resp raw = http.get("/v1/kv/tree/f?raw");
        assertEquals(200, raw.status());
        assertEquals("v-tree/f", raw.body());
        assertEquals("text/plain", raw.header("Content-Type"));
        assertEquals("nosniff", raw.header("X-Content-Type-Options"));

        assertEquals(404, http.get("/v1/kv/nothing-here/?recurse").status());
        assertEquals(404, http.get("/v1/kv/nothing-here/?keys").status());
    }

    @Test
    void flagsRoundTripAsUnsigned64() throws Exception {
        http.put("/v1/kv/flags/a?flags=42", "x");
        assertEquals(42, http.get("/v1/kv/flags/a").json().get(0).get("Flags").asLong());
        http.put("/v1/kv/flags/max?flags=18446744073709551615", "x");
        assertTrue(http.get("/v1/kv/flags/max").body().contains("\"Flags\":18446744073709551615"));
        Http.Resp bad = http.put("/v1/kv/flags/a?flags=-1", "x");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("flags"), bad.body());
    }

    @Test
    void casSucceedsOnlyOnTheCurrentIndex() throws Exception {
        assertEquals("true", http.put("/v1/kv/cas/new?cas=0", "first").body(), "cas=0 creates");
        assertEquals("false", http.put("/v1/kv/cas/new?cas=0", "again").body(), "cas=0 refuses existing");
        long idx = http.get("/v1/kv/cas/new").json().get(0).get("ModifyIndex").asLong();
        assertEquals("false", http.put("/v1/kv/cas/new?cas=" + (idx + 1000), "stale").body());
        assertEquals("true", http.put("/v1/kv/cas/new?cas=" + idx, "second").body());
        assertEquals(b64("second"), http.get("/v1/kv/cas/new").json().get(0).get("Value").asText());

        Http.Resp bad = http.put("/v1/kv/cas/new?cas=abc", "x");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("CAS"), bad.body());
        assertEquals("text/plain; charset=utf-8", bad.header("Content-Type"));
    }

    @Test
    void acquireAndReleaseWithSessions() throws Exception {
        String s1 = http.put("/v1/session/create", "{\"Name\":\"one\",\"LockDelay\":\"0s\"}").json().get("ID").asText();
        String s2 = http.put("/v1/session/create", "{\"Name\":\"two\",\"LockDelay\":\"0s\"}").json().get("ID").asText();

        assertEquals("true", http.put("/v1/kv/lock/a?acquire=" + s1, "held").body());
        JsonNode e = http.get("/v1/kv/lock/a").json().get(0);
        assertEquals(s1, e.get("Session").asText());
        assertEquals(1, e.get("LockIndex").asLong());
        assertEquals(List.of("LockIndex", "Key", "Flags", "Value", "Session", "CreateIndex", "ModifyIndex"),
                fieldNames(e));

        assertEquals("false", http.put("/v1/kv/lock/a?acquire=" + s2, "mine").body());
        assertEquals("false", http.put("/v1/kv/lock/a?release=" + s2, "").body());
        assertEquals("true", http.put("/v1/kv/lock/a?release=" + s1, "released").body());
        assertNull(http.get("/v1/kv/lock/a").json().get(0).get("Session"));
        assertEquals("true", http.put("/v1/kv/lock/a?acquire=" + s2, "mine").body());

        Http.Resp invalid = http.put("/v1/kv/lock/b?acquire=not-a-session", "x");
        assertEquals(500, invalid.status());
        assertTrue(invalid.body().toLowerCase().contains("invalid session"), invalid.body());

        Http.Resp conflicting = http.put("/v1/kv/lock/b?acquire=" + s1 + "&cas=0", "x");
        assertEquals(400, conflicting.status());
        assertTrue(conflicting.body().startsWith("Conflicting flags: "), conflicting.body());
    }

    @Test
    void destroyingASessionReleasesItsLocks() throws Exception {
        String s = http.put("/v1/session/create", "{\"LockDelay\":\"0s\"}").json().get("ID").asText();
        assertEquals("true", http.put("/v1/kv/destroy/lock?acquire=" + s, "x").body());
        assertEquals("true", http.put("/v1/session/destroy/" + s, "").body());
        JsonNode e = http.get("/v1/kv/destroy/lock").json().get(0);
        assertNull(e.get("Session"), "lock released on destroy");
        assertEquals("[]", http.get("/v1/session/info/" + s).body());
    }

    @Test
    void deleteRecurseAndCas() throws Exception {
        http.put("/v1/kv/del/a", "1");
        http.put("/v1/kv/del/b", "2");
        http.put("/v1/kv/del/c/d", "3");
        long idx = http.get("/v1/kv/del/a").json().get(0).get("ModifyIndex").asLong();
        assertEquals("false", http.delete("/v1/kv/del/a?cas=" + (idx + 1000)).body());
        assertEquals(200, http.get("/v1/kv/del/a").status());
        assertEquals("true", http.delete("/v1/kv/del/a?cas=" + idx).body());
        assertEquals(404, http.get("/v1/kv/del/a").status());

        Http.Resp conflict = http.delete("/v1/kv/del/?recurse&cas=1");
        assertEquals(400, conflict.status());
        assertTrue(conflict.body().startsWith("Conflicting flags: "), conflict.body());

        assertEquals("true", http.delete("/v1/kv/del/?recurse").body());
        assertEquals(404, http.get("/v1/kv/del/?recurse").status());
    }

    // ---- transactions ------------------------------------------------------------------------------------

    @Test
    void txnCommitsAtomically() throws Exception {
        String body = "[{\"KV\":{\"Verb\":\"set\",\"Key\":\"txn/a\",\"Value\":\"" + b64("A") + "\",\"Flags\":7}},"
                + "{\"KV\":{\"Verb\":\"set\",\"Key\":\"txn/b\",\"Value\":\"" + b64("B") + "\"}},"
                + "{\"KV\":{\"Verb\":\"get\",\"Key\":\"txn/a\"}}]";
        Http.Resp r = http.put("/v1/txn", body);
        assertEquals(200, r.status(), r.body());
        JsonNode j = r.json();
        assertTrue(j.get("Errors").isNull());
        assertEquals(3, j.get("Results").size());
        JsonNode set = j.get("Results").get(0).get("KV");
        assertEquals("txn/a", set.get("Key").asText());
        assertTrue(set.get("Value").isNull(), "write verbs return no value");
        JsonNode got = j.get("Results").get(2).get("KV");
        assertEquals(b64("A"), got.get("Value").asText());
        assertEquals(7, got.get("Flags").asLong());
        assertEquals(b64("B"), http.get("/v1/kv/txn/b").json().get(0).get("Value").asText());
    }

    @Test
    void txnRollsBackWithConsulErrorShape() throws Exception {
        http.put("/v1/kv/txnrb/existing", "old");
        String body = "[{\"KV\":{\"Verb\":\"set\",\"Key\":\"txnrb/new\",\"Value\":\"" + b64("x") + "\"}},"
                + "{\"KV\":{\"Verb\":\"cas\",\"Key\":\"txnrb/existing\",\"Value\":\"" + b64("y")
                + "\",\"Index\":999999}}]";
        Http.Resp r = http.put("/v1/txn", body);
        assertEquals(409, r.status(), r.body());
        JsonNode j = r.json();
        assertTrue(j.get("Results").isNull());
        assertEquals(1, j.get("Errors").size());
        assertEquals(1, j.get("Errors").get(0).get("OpIndex").asInt());
        assertFalse(j.get("Errors").get(0).get("What").asText().isEmpty());
        assertEquals(404, http.get("/v1/kv/txnrb/new").status(), "first op rolled back");
        assertEquals(b64("old"), http.get("/v1/kv/txnrb/existing").json().get(0).get("Value").asText());

        Http.Resp unknownVerb = http.put("/v1/txn", "[{\"KV\":{\"Verb\":\"frobnicate\",\"Key\":\"k\"}}]");
        assertEquals(409, unknownVerb.status());
        assertTrue(unknownVerb.body().contains("unknown KV verb"), unknownVerb.body());
    }

    @Test
    void txnLimits() throws Exception {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 129; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"KV\":{\"Verb\":\"get\",\"Key\":\"k").append(i).append("\"}}");
        }
        Http.Resp tooMany = http.put("/v1/txn", sb.append(']').toString());
        assertEquals(413, tooMany.status());
        assertEquals("Transaction contains too many operations (129 > 128)", tooMany.body());

        Http.Resp bad = http.put("/v1/txn", "{not json");
        assertEquals(400, bad.status());
        assertTrue(bad.body().startsWith("Failed to parse body"), bad.body());
    }

    // ---- sessions ----------------------------------------------------------------------------------------

    @Test
    void sessionLifecycle() throws Exception {
        Http.Resp created = http.put("/v1/session/create",
                "{\"Name\":\"web-lock\",\"TTL\":\"15s\",\"LockDelay\":\"5s\",\"Behavior\":\"delete\"}");
        assertEquals(200, created.status(), created.body());
        String id = created.json().get("ID").asText();
        assertEquals(36, id.length());

        Http.Resp info = http.get("/v1/session/info/" + id);
        assertEquals(200, info.status());
        assertTrue(info.index() > 0);
        JsonNode s = info.json().get(0);
        assertEquals(List.of("ID", "Name", "Node", "LockDelay", "Behavior", "TTL", "NodeChecks", "ServiceChecks",
                "CreateIndex", "ModifyIndex"), fieldNames(s));
        assertEquals("web-lock", s.get("Name").asText());
        assertEquals("api-node", s.get("Node").asText(), "node defaults to the agent's node name");
        assertEquals(5_000_000_000L, s.get("LockDelay").asLong());
        assertEquals("delete", s.get("Behavior").asText());
        assertEquals("15s", s.get("TTL").asText());

        boolean listed = false;
        for (JsonNode n : http.get("/v1/session/list").json()) {
            listed |= n.get("ID").asText().equals(id);
        }
        assertTrue(listed);
        boolean onNode = false;
        for (JsonNode n : http.get("/v1/session/node/api-node").json()) {
            onNode |= n.get("ID").asText().equals(id);
        }
        assertTrue(onNode);

        Http.Resp renewed = http.put("/v1/session/renew/" + id, "");
        assertEquals(200, renewed.status());
        assertEquals(id, renewed.json().get(0).get("ID").asText());

        assertEquals("true", http.put("/v1/session/destroy/" + id, "").body());
        Http.Resp renewGone = http.put("/v1/session/renew/" + id, "");
        assertEquals(404, renewGone.status());
        assertEquals("Session id '" + id + "' not found", renewGone.body());
        assertEquals("[]", http.get("/v1/session/info/" + id).body());
    }

    @Test
    void sessionValidation() throws Exception {
        Http.Resp shortTtl = http.put("/v1/session/create", "{\"TTL\":\"5s\"}");
        assertEquals(400, shortTtl.status());
        assertTrue(shortTtl.body().contains("Invalid Session TTL"), shortTtl.body());
        assertEquals(400, http.put("/v1/session/create", "{\"TTL\":\"86401s\"}").status());
        assertEquals(400, http.put("/v1/session/create", "{\"TTL\":\"soon\"}").status());
        assertEquals(400, http.put("/v1/session/create", "{\"Behavior\":\"explode\"}").status());
        assertEquals(400, http.put("/v1/session/create", "not json").status());
        assertEquals(200, http.put("/v1/session/create", "").status(), "empty body takes the defaults");
        assertEquals(405, http.get("/v1/session/create").status());
    }

    // ---- errors ------------------------------------------------------------------------------------------

    @Test
    void errorsUseConsulStatusCodesAndPlainText() throws Exception {
        Http.Resp missingKey = http.put("/v1/kv/", "x");
        assertEquals(400, missingKey.status());
        assertEquals("Missing key name", missingKey.body());
        assertEquals(400, http.get("/v1/kv/").status());
        assertEquals(400, http.put("/v1/kv//leading", "x").status());

        Http.Resp notFound = http.get("/v1/nope");
        assertEquals(404, notFound.status());
        assertFalse(notFound.body().contains("Exception"));

        Http.Resp wrongMethod = http.send("POST", "/v1/kv/x", new byte[0]);
        assertEquals(405, wrongMethod.status());
        assertEquals("method POST not allowed", wrongMethod.body());
        assertEquals("DELETE, GET, PUT", wrongMethod.header("Allow"));

        Http.Resp both = http.get("/v1/kv/x?stale&consistent");
        assertEquals(400, both.status());
        assertEquals("Cannot specify ?stale with ?consistent, conflicting semantics.", both.body());
        assertEquals("Invalid wait time", http.get("/v1/kv/x?index=1&wait=forever").body());
        assertEquals("Invalid index", http.get("/v1/kv/x?index=abc").body());
    }

    @Test
    void oversizeValuesAre413WithoutStoringAnything() throws Exception {
        byte[] big = new byte[512 * 1024 + 1];
        Http.Resp r = http.put("/v1/kv/big/value", big);
        assertEquals(413, r.status());
        assertEquals("Request body(524289 bytes) too large, max size: 524288 bytes.", r.body());
        assertEquals(404, http.get("/v1/kv/big/value").status());

        byte[] limit = new byte[512 * 1024];
        assertEquals("true", http.put("/v1/kv/big/value", limit).body(), "exactly the limit is accepted");

        // A chunked body has no Content-Length: it is counted as it streams and refused at the limit.
        try (Socket s = new Socket("127.0.0.1", agent.agent().httpAddress().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("PUT /v1/kv/big/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            // the server refuses at 512 KiB and reads and drops the rest (a lingering close): no write fails
            for (int i = 0; i < 10; i++) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = Http.readUntilClosed(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 413"), head);
            assertTrue(head.contains("too large"), head);
        }
        assertEquals(404, http.get("/v1/kv/big/chunked").status());
    }

    /**
     * A client that sends its body after the 413 (which comes as soon as the Content-Length is read) can still
     * write it: the server has shut down its side but reads and drops the rest. A close with the body unread
     * would reset the connection, and clients writing their body then fail without reading the answer.
     */
    @Test
    void aClientStillSendingItsBodyAfterThe413IsNotReset() throws Exception {
        int size = 512 * 1024 + 1;
        try (Socket s = new Socket("127.0.0.1", agent.agent().httpAddress().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("PUT /v1/kv/big/late HTTP/1.1\r\nHost: x\r\nContent-Length: " + size + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = Http.readUntilClosed(s.getInputStream()); // the answer, then the server's FIN
            assertTrue(head.startsWith("HTTP/1.1 413"), head);
            byte[] piece = new byte[64 * 1024];
            for (int sent = 0; sent < size; sent += piece.length) {
                out.write(piece, 0, Math.min(piece.length, size - sent)); // a reset fails the second write
                out.flush();
            }
        }
        assertEquals(404, http.get("/v1/kv/big/late").status());
    }

    // ---- index header and blocking queries ---------------------------------------------------------------

    @Test
    void indexHeaderIsPresentPositiveAndMonotonic() throws Exception {
        long last = 0;
        for (int i = 0; i < 5; i++) {
            http.put("/v1/kv/mono/k", "v" + i);
            for (String path : List.of("/v1/kv/mono/k", "/v1/kv/mono/?recurse", "/v1/kv/mono/?keys",
                    "/v1/session/list", "/v1/kv/mono/k?stale")) {
                Http.Resp r = http.get(path);
                assertTrue(r.index() > 0, path);
            }
            long idx = http.get("/v1/kv/mono/k").index();
            assertTrue(idx > last, "index moved forward: " + last + " -> " + idx);
            last = idx;
        }
        assertEquals("stale", http.get("/v1/kv/mono/k?stale").header("X-Consul-Effective-Consistency"));
        assertEquals("consistent", http.get("/v1/kv/mono/k?consistent").header("X-Consul-Effective-Consistency"));
    }

    @Test
    void blockingQueryWakesOnWrite() throws Exception {
        http.put("/v1/kv/block/key", "before");
        long index = http.get("/v1/kv/block/key").index();
        double waitingBefore = agent.gauge("weft.http.blocking.queries");
        long start = System.nanoTime();
        CompletableFuture<Http.Resp> pending = http.sendAsync("GET", "/v1/kv/block/key?index=" + index
                + "&wait=30s", null);
        awaitTrue("the query is waiting", Duration.ofSeconds(10),
                () -> agent.gauge("weft.http.blocking.queries") > waitingBefore);
        assertFalse(pending.isDone());
        http.put("/v1/kv/block/key", "after");
        Http.Resp r = pending.get(10, TimeUnit.SECONDS);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(200, r.status());
        assertTrue(r.index() > index);
        assertEquals(b64("after"), r.json().get(0).get("Value").asText());
        assertTrue(tookMs < 10_000, "answered on the write, not the timeout: " + tookMs + " ms");
    }

    @Test
    void blockingQueryOnPrefixWakesOnWriteUnderIt() throws Exception {
        http.put("/v1/kv/blockp/one", "1");
        long index = http.get("/v1/kv/blockp/?recurse").index();
        CompletableFuture<Http.Resp> pending = http.sendAsync("GET", "/v1/kv/blockp/?recurse&index=" + index
                + "&wait=30s", null);
        http.put("/v1/kv/elsewhere", "unrelated");
        http.put("/v1/kv/blockp/two", "2");
        Http.Resp r = pending.get(10, TimeUnit.SECONDS);
        assertEquals(2, r.json().size());
        assertTrue(r.index() > index);
    }

    @Test
    void blockingQueryOnSessionsWakesOnCreate() throws Exception {
        long index = http.get("/v1/session/list").index();
        CompletableFuture<Http.Resp> pending = http.sendAsync("GET", "/v1/session/list?index=" + index
                + "&wait=30s", null);
        String id = http.put("/v1/session/create", "{}").json().get("ID").asText();
        Http.Resp r = pending.get(10, TimeUnit.SECONDS);
        assertTrue(r.index() > index);
        assertTrue(r.body().contains(id));
    }

    @Test
    void blockingQueryTimesOutWithTheSameIndex() throws Exception {
        http.put("/v1/kv/timeout/key", "v");
        long index = http.get("/v1/kv/timeout/key").index();
        long start = System.nanoTime();
        Http.Resp r = http.get("/v1/kv/timeout/key?index=" + index + "&wait=200ms");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(200, r.status());
        assertEquals(index, r.index());
        assertTrue(tookMs >= 190, "waited: " + tookMs + " ms");
        assertTrue(tookMs < 5_000, "timed out promptly: " + tookMs + " ms");
    }

    @Test
    void blockingQueryAboveTheCurrentIndexWaitsForTimeoutLikeConsul() throws Exception {
        http.put("/v1/kv/future/key", "v");
        long index = http.get("/v1/kv/future/key").index();
        Http.Resp r = http.get("/v1/kv/future/key?index=" + (index + 1_000_000) + "&wait=100ms");
        assertEquals(200, r.status());
        assertEquals(index, r.index(), "answers the current index; the client resets when it went backwards");
    }

    @Test
    void closingTheConnectionCancelsTheWaiter() throws Exception {
        http.put("/v1/kv/cancel/key", "v");
        long index = http.get("/v1/kv/cancel/key").index();
        double before = agent.gauge("weft.http.blocking.queries");
        try (Socket s = new Socket("127.0.0.1", agent.agent().httpAddress().getPort())) {
            s.getOutputStream().write(("GET /v1/kv/cancel/key?index=" + index + "&wait=5m HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            awaitTrue("the query is waiting", Duration.ofSeconds(10),
                    () -> agent.gauge("weft.http.blocking.queries") > before);
        }
        awaitTrue("the waiter is gone", Duration.ofSeconds(10),
                () -> agent.gauge("weft.http.blocking.queries") <= before);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
        http.put("/v1/kv/pipe/a", "A");
        http.put("/v1/kv/pipe/b", "B");
        try (Socket s = new Socket("127.0.0.1", agent.agent().httpAddress().getPort())) {
            s.setSoTimeout(10_000);
            String reqs = "GET /v1/kv/pipe/a?raw HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1/kv/pipe/b?raw HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1/kv/pipe/a?raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(reqs.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String all = Http.readUntilClosed(s.getInputStream());
            int a = all.indexOf("\r\n\r\nA");
            int b = all.indexOf("\r\n\r\nB");
            int a2 = all.lastIndexOf("\r\n\r\nA");
            assertTrue(a > 0 && b > a && a2 > b, all);
        }
    }

    // ---- cluster status, metrics, snapshots --------------------------------------------------------------

    @Test
    void statusAndAgentEndpoints() throws Exception {
        String raftAddr = agent.agent().raftAddress();
        assertEquals("\"" + raftAddr + "\"", http.get("/v1/status/leader").body());
        assertEquals("[\"" + raftAddr + "\"]", http.get("/v1/status/peers").body());

        JsonNode self = http.get("/v1/agent/self").json();
        assertEquals("dc1", self.get("Config").get("Datacenter").asText());
        assertEquals("api-node", self.get("Config").get("NodeName").asText());
        assertTrue(self.get("Config").get("Server").asBoolean());
        assertEquals("api-node", self.get("Member").get("Name").asText());
        // Consul's NodeID is the node's UUID (the data dir's node-id file), the same as in the catalog
        String nodeId = self.get("Config").get("NodeID").asText();
        assertTrue(nodeId.matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), nodeId);
        String catalogId = dev.weft.kvstore.testing.Poll.until(Duration.ofSeconds(20),
                () -> "the agent's node in the catalog", () -> {
                    JsonNode n = http.get("/v1/catalog/node/api-node").json().get("Node");
                    return n == null || n.isNull() ? null : n.get("ID").asText();
                });
        assertEquals(nodeId, catalogId);

        JsonNode members = http.get("/v1/agent/members").json();
        assertEquals(1, members.size());
        assertEquals("api-node", members.get(0).get("Name").asText());
        assertEquals("consul", members.get(0).get("Tags").get("role").asText());
        assertEquals(1, members.get(0).get("Status").asInt());

        JsonNode conf = http.get("/v1/operator/raft/configuration").json();
        assertEquals(1, conf.get("Servers").size());
        JsonNode server = conf.get("Servers").get(0);
        assertEquals(raftAddr, server.get("Address").asText());
        assertTrue(server.get("Leader").asBoolean());
        assertTrue(server.get("Voter").asBoolean());
        assertTrue(conf.get("Index").asLong() > 0);

        Http.Resp unknownPeer = http.delete("/v1/operator/raft/peer?id=nobody");
        assertEquals(500, unknownPeer.status());
        assertTrue(unknownPeer.body().contains("not found"), unknownPeer.body());
        assertEquals(400, http.delete("/v1/operator/raft/peer").status());
    }

    @Test
    void metricsEndpointServesPrometheusAndJson() throws Exception {
        http.get("/v1/kv/metrics-probe");
        Http.Resp prom = http.get("/v1/agent/metrics?format=prometheus");
        assertEquals(200, prom.status());
        assertTrue(prom.header("Content-Type").startsWith("text/plain"));
        assertTrue(prom.body().contains("weft_http_requests_seconds_count{"), "request timer");
        assertTrue(prom.body().contains("path=\"/v1/kv\""), "path group tag");
        assertTrue(prom.body().contains("weft_http_blocking_queries"), "blocking gauge");

        JsonNode summary = http.get("/v1/agent/metrics").json();
        assertTrue(summary.get("Gauges").isArray());
        assertTrue(summary.get("Samples").size() > 0);
    }

    @Test
    void snapshotSaveAndRestore() throws Exception {
        http.put("/v1/kv/snap/kept", "original");
        Http.Resp saved = http.get("/v1/snapshot");
        assertEquals(200, saved.status());
        assertTrue(saved.index() > 0);
        byte[] snapshot = saved.bytes();

        http.put("/v1/kv/snap/kept", "changed");
        http.put("/v1/kv/snap/added", "new");
        Http.Resp restored = http.put("/v1/snapshot", snapshot);
        assertEquals(200, restored.status(), restored.body());
        assertEquals(b64("original"), http.get("/v1/kv/snap/kept").json().get(0).get("Value").asText());
        assertEquals(404, http.get("/v1/kv/snap/added").status());

        byte[] corrupt = snapshot.clone();
        corrupt[corrupt.length / 2] ^= 0x5a;
        Http.Resp bad = http.put("/v1/snapshot", corrupt);
        assertEquals(400, bad.status(), bad.body());
    }
}
