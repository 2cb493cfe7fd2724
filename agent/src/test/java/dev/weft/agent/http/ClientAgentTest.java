package dev.weft.agent.http;

import dev.weft.agent.TestAgent;
import dev.weft.kvstore.feed.ClientStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client agent in process, following a real single-server agent: the same API as on the server through a
 * store that forwards writes and read barriers and serves reads from its own view. (Separate processes, several
 * servers and outages: chaos-tests' ClientAgentsIT.)
 */
class ClientAgentTest {
    private static TestAgent server;
    private static TestAgent client;
    private static Http toServer;
    private static Http toClient;

    @BeforeAll
    static void start() throws Exception {
        server = TestAgent.start("srv1");
        client = TestAgent.startClient("cli1", server.httpAddr());
        toServer = new Http(server.baseUrl());
        toClient = new Http(client.baseUrl());
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void writesThroughTheClientAreReadableAtOnceFromItsView() throws Exception {
        Http.Resp put = toClient.put("/v1/kv/c/a", "one");
        assertEquals(200, put.status(), put.body());
        assertEquals("true", put.body());
        // read-your-writes from the local view, no round trip
        Http.Resp stale = toClient.get("/v1/kv/c/a?stale&raw");
        assertEquals("one", stale.body());
        Http.Resp onServer = toServer.get("/v1/kv/c/a");
        Http.Resp onClient = toClient.get("/v1/kv/c/a");
        assertEquals(200, onClient.status());
        assertEquals(onServer.json().get(0).get("ModifyIndex").asLong(),
                onClient.json().get(0).get("ModifyIndex").asLong());
        assertEquals(onServer.index(), onClient.index(), "same X-Consul-Index on client and server");
        assertEquals("true", onClient.header("X-Consul-KnownLeader"));
        // CAS through the client uses the server's indexes
        long idx = onClient.json().get(0).get("ModifyIndex").asLong();
        assertEquals("false", toClient.put("/v1/kv/c/a?cas=" + (idx - 1), "stale-cas").body());
        assertEquals("true", toClient.put("/v1/kv/c/a?cas=" + idx, "two").body());
        assertEquals("two", toServer.get("/v1/kv/c/a?raw").body());
    }

    @Test
    void consistentReadOnTheClientSeesAWriteMadeOnTheServer() throws Exception {
        assertEquals("true", toServer.put("/v1/kv/c/linear", "server-write").body());
        Http.Resp r = toClient.get("/v1/kv/c/linear?consistent&raw");
        assertEquals(200, r.status(), r.body());
        assertEquals("server-write", r.body());
        assertEquals("consistent", r.header("X-Consul-Effective-Consistency"));
    }

    @Test
    void blockingQueryOnTheClientWakesOnAWriteOnTheServer() throws Exception {
        toServer.put("/v1/kv/c/watch", "v1");
        Http.Resp first = toClient.get("/v1/kv/c/watch?consistent");
        long index = first.index();
        CompletableFuture<Http.Resp> blocked = toClient.sendAsync("GET", "/v1/kv/c/watch?index=" + index
                + "&wait=20s", null);
        assertFalse(blocked.isDone());
        toServer.put("/v1/kv/c/watch", "v2");
        Http.Resp woke = blocked.get(15, TimeUnit.SECONDS);
        assertEquals(200, woke.status());
        assertTrue(woke.index() > index);
        String value = new String(Base64.getDecoder().decode(woke.json().get(0).get("Value").asText()),
                StandardCharsets.UTF_8);
        assertEquals("v2", value);
    }

    @Test
    void aServiceRegisteredOnTheClientAnswersInItsDnsAndOnTheServer() throws Exception {
        Http.Resp r = toClient.put("/v1/agent/service/register",
                "{\"Name\":\"cweb\",\"ID\":\"cweb-1\",\"Address\":\"127.0.0.41\",\"Port\":80}");
        assertEquals(200, r.status(), r.body());
        TestAgent.awaitTrue("cweb in the client's DNS", Duration.ofSeconds(20),
                () -> aRecords(client, "cweb.service.weft.").contains("127.0.0.41"));
        assertTrue(aRecords(server, "cweb.service.weft.").contains("127.0.0.41"));
        Http.Resp catalog = toServer.get("/v1/catalog/service/cweb");
        assertEquals("cli1", catalog.json().get(0).get("Node").asText(), "registered under the client's node");
        // the client's node heart-beats through the servers: its serfHealth is passing
        TestAgent.awaitTrue("cli1 node health passing", Duration.ofSeconds(20), () -> {
            try {
                Http.Resp h = toServer.get("/v1/health/node/cli1");
                for (var c : h.json()) {
                    if (c.get("CheckID").asText().equals("serfHealth")) {
                        return "passing".equals(c.get("Status").asText());
                    }
                }
                return false;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void aBurstOfRegistrationsOnTheClientSyncsWithoutFailedRounds() throws Exception {
        // Anti-entropy once sent a whole round's writes at once; with hundreds of registrations queued, more than
        // the client's 64 requests to the servers were in flight, and rounds failed and were retried.
        double failuresBefore = syncFailures();
        int n = 300;
        List<CompletableFuture<Http.Resp>> puts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            puts.add(toClient.sendAsync("PUT", "/v1/agent/service/register", ("{\"Name\":\"burst-" + i
                    + "\",\"Address\":\"127.0.0.42\",\"Port\":80}").getBytes(StandardCharsets.UTF_8)));
        }
        for (CompletableFuture<Http.Resp> p : puts) {
            Http.Resp r = p.get(60, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.body());
        }
        TestAgent.awaitTrue("all " + n + " burst services in the servers' catalog", Duration.ofSeconds(60), () -> {
            try {
                var services = toServer.get("/v1/catalog/services").json();
                int found = 0;
                for (var it = services.fieldNames(); it.hasNext(); ) {
                    found += it.next().startsWith("burst-") ? 1 : 0;
                }
                return found == n;
            } catch (Exception e) {
                return false;
            }
        });
        assertEquals(failuresBefore, syncFailures(), "anti-entropy rounds failed during the burst");
    }

    private static double syncFailures() throws Exception {
        String text = toClient.get("/v1/agent/metrics?format=prometheus").body();
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("weft_agent_sync_failures")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    @Test
    void healthChecksOfTheClientReachTheCatalogAndItsDns() throws Exception {
        Http.Resp r = toClient.put("/v1/agent/service/register", "{\"Name\":\"cttl\",\"ID\":\"cttl-1\","
                + "\"Address\":\"127.0.0.42\",\"Port\":81,\"Check\":{\"CheckID\":\"cttl-check\",\"TTL\":\"30s\"}}");
        assertEquals(200, r.status(), r.body());
        // a TTL check starts critical: not in DNS, critical on the server
        TestAgent.awaitTrue("cttl critical on the server", Duration.ofSeconds(20),
                () -> "critical".equals(checkStatus("cttl-check")));
        assertTrue(aRecords(client, "cttl.service.weft.").isEmpty());
        assertEquals(200, toClient.put("/v1/agent/check/pass/cttl-check", "").status());
        TestAgent.awaitTrue("cttl passing on the server", Duration.ofSeconds(20),
                () -> "passing".equals(checkStatus("cttl-check")));
        TestAgent.awaitTrue("cttl in the client's DNS", Duration.ofSeconds(20),
                () -> aRecords(client, "cttl.service.weft.").contains("127.0.0.42"));
        assertEquals(200, toClient.put("/v1/agent/check/fail/cttl-check", "").status());
        TestAgent.awaitTrue("cttl out of the client's DNS", Duration.ofSeconds(20),
                () -> aRecords(client, "cttl.service.weft.").isEmpty());
    }

    private static String checkStatus(String checkId) {
        try {
            Http.Resp h = toServer.get("/v1/health/checks/cttl");
            for (var c : h.json()) {
                if (c.get("CheckID").asText().equals(checkId)) {
                    return c.get("Status").asText();
                }
            }
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void theClientDescribesItselfAsAClientOfTheServers() throws Exception {
        Http.Resp self = toClient.get("/v1/agent/self");
        assertFalse(self.json().get("Config").get("Server").asBoolean());
        String leader = toServer.get("/v1/status/leader").body();
        assertEquals(leader, toClient.get("/v1/status/leader").body());
        assertEquals(toServer.get("/v1/status/peers").body(), toClient.get("/v1/status/peers").body());
        ClientStore store = (ClientStore) client.agent().store();
        assertEquals(1, store.servers().size());
        assertEquals(server.httpAddr(), store.servers().get(0).httpAddress(),
                "servers publish their HTTP address for clients");
        assertEquals(-1, client.gauge("weft.raft.commit.index"), "a client runs no Raft member");
    }

    @Test
    void internalEndpointsRefuseBadInputAndAreServedByServersOnly() throws Exception {
        Http.Resp onClient = toClient.get("/v1/internal/feed?index=0&wait=1s");
        assertEquals(400, onClient.status());
        assertTrue(onClient.body().contains("not a server"), onClient.body());
        assertEquals(400, toServer.get("/v1/internal/feed").status());
        assertEquals(400, toServer.get("/v1/internal/feed?index=abc").status());
        assertEquals(400, toServer.get("/v1/internal/feed?index=-4").status());
        Http.Resp garbage = toServer.put("/v1/internal/apply", new byte[] {1, 2, 3});
        assertEquals(400, garbage.status());
        assertTrue(garbage.body().startsWith("Invalid command"), garbage.body());
        Http.Resp snap = toServer.get("/v1/internal/feed?index=0&wait=1s&snapshot");
        assertEquals(200, snap.status());
        assertEquals("snapshot", snap.header("X-Weft-Feed"));
        // nothing was stored by the bad requests: the server still answers and its data is intact
        assertEquals(200, toServer.get("/v1/kv/?keys").status());
    }

    @Test
    void heartbeatsAloneDoNotWakeTheFeedButTravelWithTheNextChange() throws Exception {
        // Other writes (agents' start-up sync, check updates) may land in the window; then try again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            long at = server.agent().store().read(dev.weft.kvstore.state.KvReadView::lastIndex);
            CompletableFuture<Http.Resp> feed = toServer.sendAsync("GET", "/v1/internal/feed?index=" + at
                    + "&wait=20s", null);
            var hb = server.agent().store().submit(new dev.weft.kvstore.state.Command.NodeHeartbeat("srv1"))
                    .get(10, TimeUnit.SECONDS);
            assertTrue(hb.index() > at);
            Http.Resp early;
            try {
                early = feed.get(700, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException expected) {
                // the heartbeat alone did not answer the waiting request: now a real change must
                assertEquals("true", toServer.put("/v1/kv/c/after-heartbeat", "x").body());
                Http.Resp r = feed.get(10, TimeUnit.SECONDS);
                assertEquals(200, r.status());
                List<dev.weft.kvstore.feed.ChangeFeed.Entry> entries =
                        dev.weft.kvstore.feed.FeedProtocol.decodeEntries(r.bytes());
                assertTrue(entries.stream().anyMatch(e -> e.index() == hb.index()),
                        "the heartbeat travels with the next change");
                assertTrue(entries.get(entries.size() - 1).index() > hb.index());
                return;
            }
            assertEquals(200, early.status());
            boolean onlyHeartbeats = dev.weft.kvstore.feed.FeedProtocol.decodeEntries(early.bytes()).stream()
                    .allMatch(e -> isHeartbeat(dev.weft.kvstore.codec.CommandCodec.decode(e.data())));
            assertFalse(onlyHeartbeats, "a feed request was answered with heartbeats only");
            assertTrue(System.nanoTime() < deadline, "other writes kept landing for 30 s");
        }
    }

    @Test
    void aFeedRequestThroughAnIndexIsAnsweredOnceItIsThereHeartbeatsOrNot() throws Exception {
        long at = server.agent().store().read(dev.weft.kvstore.state.KvReadView::lastIndex);
        var hb = server.agent().store().submit(new dev.weft.kvstore.state.Command.NodeHeartbeat("srv1"))
                .get(10, TimeUnit.SECONDS);
        // what a client asks when it waits for a write's index or a ReadIndex: answered without waiting for
        // a non-heartbeat change (the wait is 60 s; the test's own deadline 20 s)
        Http.Resp r = toServer.sendAsync("GET", "/v1/internal/feed?index=" + at + "&through=" + hb.index()
                + "&wait=60s", null).get(20, TimeUnit.SECONDS);
        assertEquals(200, r.status());
        assertTrue(dev.weft.kvstore.feed.FeedProtocol.decodeEntries(r.bytes()).stream()
                .anyMatch(e -> e.index() == hb.index()));
        assertEquals(400, toServer.get("/v1/internal/feed?index=1&through=x").status());
    }

    private static boolean isHeartbeat(dev.weft.kvstore.state.Command c) {
        if (c instanceof dev.weft.kvstore.state.Command.NodeHeartbeat) {
            return true;
        }
        return c instanceof dev.weft.kvstore.state.Command.Batch b
                && b.commands().stream().allMatch(x -> x instanceof dev.weft.kvstore.state.Command.NodeHeartbeat);
    }

    private static List<String> aRecords(TestAgent agent, String name) {
        try {
            InetSocketAddress dns = agent.agent().dnsAddress();
            SimpleResolver r = new SimpleResolver(dns);
            r.setTimeout(Duration.ofSeconds(2));
            Message resp = r.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
            List<String> out = new ArrayList<>();
            for (Record rec : resp.getSection(Section.ANSWER)) {
                if (rec instanceof ARecord a) {
                    out.add(a.getAddress().getHostAddress());
                }
            }
            return out;
        } catch (Exception e) {
            return List.of();
        }
    }
}
