package dev.weft.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's own services and checks: /v1/agent/* answers, check results reaching the catalog, the output
 * write throttle, anti-entropy repairs, DeregisterCriticalServiceAfter, and registrations surviving a restart.
 */
class AgentLocalApiTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static CatalogCheck catalogCheck(TestAgent a, String id) {
        String node = a.agent().config().nodeName();
        return a.agent().store().read(v -> v.catalog().check(node, id));
    }

    private static CatalogService catalogService(TestAgent a, String id) {
        String node = a.agent().config().nodeName();
        return a.agent().store().read(v -> v.catalog().service(node, id));
    }

    private static double syncWrites(TestAgent a) {
        return a.agent().registry().find("weft.agent.sync.writes").counter().count();
    }

    @Test
    void agentEndpointsRegisterListAndDeregister() throws Exception {
        try (TestAgent a = TestAgent.start("local1")) {
            Http http = new Http(a.baseUrl());
            assertEquals(200, http.put("/v1/agent/service/register", "{\"ID\":\"api-1\",\"Name\":\"api\","
                    + "\"Tags\":[\"a\",\"b\"],\"Port\":9000,\"Meta\":{\"k\":\"v\"},"
                    + "\"Check\":{\"TTL\":\"30s\"}}").status());
            JsonNode services = http.get("/v1/agent/services").json();
            assertEquals("api", services.get("api-1").get("Service").asText());
            assertEquals(9000, services.get("api-1").get("Port").asInt());
            assertEquals("v", services.get("api-1").get("Meta").get("k").asText());
            assertEquals("api", http.get("/v1/agent/service/api-1").json().get("Service").asText());
            assertEquals(404, http.get("/v1/agent/service/nope").status());
            JsonNode checks = http.get("/v1/agent/checks").json();
            assertEquals("critical", checks.get("service:api-1").get("Status").asText(), checks.toString());
            assertEquals("api-1", checks.get("service:api-1").get("ServiceID").asText());
            Poll.until(WAIT, () -> "api-1 in the catalog", () -> catalogService(a, "api-1") != null);

            // Bad input: clear 400s, nothing stored.
            assertEquals(400, http.put("/v1/agent/service/register", "{\"Port\":1}").status());
            assertEquals(400, http.put("/v1/agent/service/register", "{not json").status());
            assertEquals(400, http.put("/v1/agent/service/register",
                    "{\"Name\":\"x\",\"Check\":{\"HTTP\":\"http://127.0.0.1:1/\"}}").status(), "HTTP without Interval");
            assertEquals(400, http.put("/v1/agent/check/register",
                    "{\"Name\":\"c\",\"TTL\":\"10s\",\"ServiceID\":\"nope\"}").status());
            assertEquals(404, http.put("/v1/agent/check/pass/nope", "").status());
            assertEquals(404, http.put("/v1/agent/service/deregister/nope", "").status());
            assertEquals(1, http.get("/v1/agent/services").json().size());

            // A node-level check registered on its own.
            assertEquals(200, http.put("/v1/agent/check/register",
                    "{\"ID\":\"mem\",\"Name\":\"Memory\",\"TTL\":\"30s\",\"Status\":\"warning\"}").status());
            Poll.until(WAIT, () -> "mem check in the catalog", () -> catalogCheck(a, "mem") != null);
            assertEquals(HealthStatus.WARNING, catalogCheck(a, "mem").status());
            assertEquals(200, http.put("/v1/agent/check/deregister/mem", "").status());
            Poll.until(WAIT, () -> "mem check gone", () -> catalogCheck(a, "mem") == null);

            assertEquals(200, http.put("/v1/agent/service/deregister/api-1", "").status());
            Poll.until(WAIT, () -> "api-1 gone", () -> catalogService(a, "api-1") == null);
            assertNull(catalogCheck(a, "service:api-1"), "its check went with it");
        }
    }

    @Test
    void statusChangesAreWrittenAtOnceOutputOnlyChangesAreThrottled() throws Exception {
        try (TestAgent a = TestAgent.start("local2")) {
            Http http = new Http(a.baseUrl());
            http.put("/v1/agent/service/register", "{\"ID\":\"w\",\"Name\":\"w\",\"Check\":{\"TTL\":\"60s\"}}");
            http.put("/v1/agent/check/pass/service:w?note=first", "");
            Poll.until(WAIT, () -> "passing with 'first'", () -> {
                CatalogCheck c = catalogCheck(a, "service:w");
                return c != null && c.status() == HealthStatus.PASSING && c.output().equals("first");
            });
            // Default check-update-interval is 5 minutes: 50 output-only updates cause no write.
            // Idle = no anti-entropy write for 500 ms (start-up writes can still be landing).
            double[] seen = {syncWrites(a)};
            long[] changedAt = {System.nanoTime()};
            Poll.until(WAIT, () -> "sync idle", () -> {
                double now = syncWrites(a);
                if (now != seen[0]) {
                    seen[0] = now;
                    changedAt[0] = System.nanoTime();
                    return false;
                }
                return a.agent().local().checks().size() == 1
                        && System.nanoTime() - changedAt[0] >= TimeUnit.MILLISECONDS.toNanos(500);
            });
            double writesBefore = syncWrites(a);
            for (int i = 0; i < 50; i++) {
                assertEquals(200, http.put("/v1/agent/check/pass/service:w?note=run-" + i, "").status());
            }
            assertEquals("run-49", http.get("/v1/agent/checks").json().get("service:w").get("Output").asText(),
                    "the agent's own view has the latest output");
            // A status change is written at once, with the latest output.
            http.put("/v1/agent/check/warn/service:w?note=slow", "");
            Poll.until(WAIT, () -> "warning in the catalog", () -> {
                CatalogCheck c = catalogCheck(a, "service:w");
                return c.status() == HealthStatus.WARNING && c.output().equals("slow");
            });
            double written = syncWrites(a) - writesBefore;
            assertTrue(written <= 2, "output-only updates must not be written one by one: " + written + " writes");
        }
    }

    @Test
    void httpCheckResultsReachTheCatalog() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/health", ex -> {
            byte[] b = ("status " + status.get()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status.get(), b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        try (TestAgent a = TestAgent.start("local3")) {
            Http http = new Http(a.baseUrl());
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/health";
            assertEquals(200, http.put("/v1/agent/service/register", "{\"ID\":\"h\",\"Name\":\"h\",\"Port\":1,"
                    + "\"Check\":{\"HTTP\":\"" + url + "\",\"Interval\":\"1s\",\"Timeout\":\"1s\"}}").status());
            Poll.until(WAIT, () -> "http check passing in the catalog", () -> {
                CatalogCheck c = catalogCheck(a, "service:h");
                return c != null && c.status() == HealthStatus.PASSING;
            });
            status.set(503);
            Poll.until(WAIT, () -> "http check critical in the catalog", () ->
                    catalogCheck(a, "service:h").status() == HealthStatus.CRITICAL);
            assertTrue(catalogCheck(a, "service:h").output().contains("503"), catalogCheck(a, "service:h").output());
            status.set(429);
            Poll.until(WAIT, () -> "http check warning in the catalog", () ->
                    catalogCheck(a, "service:h").status() == HealthStatus.WARNING);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void antiEntropyRepairsTheCatalogAndReapsCriticalServices() throws Exception {
        Path dir = Files.createTempDirectory("weft-ae-");
        try (TestAgent a = TestAgent.start("local4", dir, c -> c.withDiscovery(
                c.discovery().withAntiEntropyInterval(Duration.ofSeconds(1))))) {
            Http http = new Http(a.baseUrl());
            http.put("/v1/agent/service/register", "{\"ID\":\"keep\",\"Name\":\"keep\",\"Port\":1}");
            Poll.until(WAIT, () -> "keep registered", () -> catalogService(a, "keep") != null);

            // Someone removes our service behind our back: the next full sync puts it back.
            assertEquals(200, http.put("/v1/catalog/deregister", "{\"Node\":\"local4\",\"ServiceID\":\"keep\"}")
                    .status());
            Poll.until(WAIT, () -> "keep re-asserted", () -> catalogService(a, "keep") != null);

            // A catalog entry for our node that the agent does not have: removed.
            assertEquals(200, http.put("/v1/catalog/register", "{\"Node\":\"local4\",\"Address\":\"127.0.0.1\","
                    + "\"Service\":{\"ID\":\"ghost\",\"Service\":\"ghost\",\"Port\":2}}").status());
            Poll.until(WAIT, () -> "ghost removed by anti-entropy", () -> catalogService(a, "ghost") == null);

            // DeregisterCriticalServiceAfter: the owning agent removes a service critical that long.
            http.put("/v1/agent/service/register", "{\"ID\":\"doomed\",\"Name\":\"doomed\",\"Port\":3,"
                    + "\"Check\":{\"TTL\":\"60s\",\"DeregisterCriticalServiceAfter\":\"2s\"}}");
            Poll.until(WAIT, () -> "doomed registered", () -> catalogService(a, "doomed") != null);
            Poll.until(WAIT, () -> "doomed reaped", () -> catalogService(a, "doomed") == null
                    && a.agent().local().service("doomed") == null);
            assertNotNull(catalogService(a, "keep"));
        }
    }

    @Test
    void registrationsSurviveARestart() throws Exception {
        Path dir = Files.createTempDirectory("weft-restart-");
        TestAgent first = TestAgent.start("local5", dir, c -> c);
        try {
            Http http = new Http(first.baseUrl());
            http.put("/v1/agent/service/register", "{\"ID\":\"db\",\"Name\":\"db\",\"Port\":5432,"
                    + "\"Check\":{\"TTL\":\"60s\",\"Status\":\"passing\"}}");
            http.put("/v1/agent/check/register", "{\"ID\":\"disk\",\"Name\":\"Disk\",\"TTL\":\"60s\"}");
            Poll.until(WAIT, () -> "db registered", () -> catalogService(first, "db") != null);
        } catch (Throwable t) {
            first.crashKeepData();
            TestAgent.deleteDir(dir);
            throw t;
        }
        first.crashKeepData();
        try (TestAgent second = TestAgent.start("local5", dir, c -> c)) {
            assertNotNull(second.agent().local().service("db"), "restored from the data dir");
            Poll.until(WAIT, () -> "db and disk in the catalog after restart", () ->
                    catalogService(second, "db") != null && catalogCheck(second, "disk") != null);
            JsonNode checks = new Http(second.baseUrl()).get("/v1/agent/checks").json();
            assertTrue(checks.has("service:db") && checks.has("disk"), checks.toString());
        } finally {
            TestAgent.deleteDir(dir);
        }
    }
}
