package dev.weft.agent.checks;

import dev.weft.agent.checks.CheckDefinition.Kind;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.testing.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTP checks against real servers on loopback. */
class HttpCheckTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration FAST = Duration.ofMillis(100);

    private final Updates updates = new Updates();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private LocalServers.Web web;
    private HealthChecks checks;

    @BeforeEach
    void start() throws Exception {
        web = new LocalServers.Web(false);
        checks = new HealthChecks(updates, registry, Duration.ofMillis(50));
    }

    @AfterEach
    void stop() {
        checks.close();
        web.close();
    }

    static CheckDefinition http(String id, String url, Duration interval, Duration timeout) {
        return http(id, url, "GET", Map.of(), "", false, interval, timeout);
    }

    static CheckDefinition http(String id, String url, String method, Map<String, List<String>> header, String body,
                                boolean skipVerify, Duration interval, Duration timeout) {
        return new CheckDefinition(id, id, "", "", Kind.HTTP, url, method, header, body, skipVerify, "", null,
                interval, timeout, HealthStatus.CRITICAL, null);
    }

    private Updates.Update firstUpdate(String id) {
        return Poll.until(WAIT, () -> updates.describe(id), () -> updates.first(id));
    }

    @ParameterizedTest
    @CsvSource({"200, passing", "201, passing", "299, passing", "429, warning", "500, critical", "503, critical",
            "404, critical", "300, critical"})
    void statusCodeDecidesHealth(int code, String expected) {
        String url = web.url("/status/" + code);
        checks.add(http("c", url, FAST, Duration.ofSeconds(5)));
        Updates.Update u = firstUpdate("c");
        assertEquals(HealthStatus.parse(expected), u.status(), u.output());
        assertTrue(u.output().startsWith("HTTP GET " + url + ": " + code), u.output());
        assertTrue(u.output().endsWith(" Output: status " + code), u.output());
    }

    @Test
    void outputIsConsulsFormat() {
        String url = web.url("/status/200");
        checks.add(http("c", url, FAST, Duration.ofSeconds(5)));
        assertEquals("HTTP GET " + url + ": 200 OK Output: status 200", firstUpdate("c").output());
    }

    @Test
    void outputIsTruncatedTo4KiB() {
        String url = web.url("/big");
        checks.add(http("big", url, FAST, Duration.ofSeconds(5)));
        Updates.Update u = firstUpdate("big");
        assertEquals(HealthStatus.PASSING, u.status());
        String prefix = "HTTP GET " + url + ": 200 OK Output: ";
        assertTrue(u.output().startsWith(prefix + "BBBB"), u.output());
        assertEquals(4096, u.output().getBytes(StandardCharsets.UTF_8).length);
        assertEquals("B".repeat(4096 - prefix.length()), u.output().substring(prefix.length()));
    }

    @Test
    void defaultHeadersAsConsul() {
        checks.add(http("c", web.url("/plain"), FAST, Duration.ofSeconds(5)));
        firstUpdate("c");
        LocalServers.Seen s = web.requests("/plain").get(0);
        assertEquals("GET", s.method());
        assertEquals("Consul Health Check", s.header("User-Agent"));
        assertEquals("text/plain, text/*, */*", s.header("Accept"));
        assertEquals("close", s.header("Connection"), "keep-alives off, as Consul's check transport");
        assertEquals("127.0.0.1:" + web.server.getAddress().getPort(), s.header("Host"));
        assertEquals("", s.body());
    }

    @Test
    void methodHeaderAndBodyAreSent() {
        Map<String, List<String>> header = Map.of("X-Weft", List.of("a", "b"), "User-Agent", List.of("probe/1"),
                "Host", List.of("service.example"));
        checks.add(http("c", web.url("/echo?x=1"), "PUT", header, "hello body", false, FAST,
                Duration.ofSeconds(5)));
        Updates.Update u = firstUpdate("c");
        assertTrue(u.output().startsWith("HTTP PUT " + web.url("/echo?x=1") + ": 200 OK"), u.output());
        LocalServers.Seen s = web.requests("/echo").get(0);
        assertEquals("PUT", s.method());
        assertEquals("hello body", s.body());
        assertEquals("a,b", s.header("X-Weft"));
        assertEquals("probe/1", s.header("User-Agent"), "the check's User-Agent wins");
        assertEquals("text/plain, text/*, */*", s.header("Accept"));
        assertEquals("service.example", s.header("Host"), "Host header honoured as Consul does");
    }

    @Test
    void redirectsAreFollowed() {
        String url = web.url("/redirect");
        checks.add(http("r", url, FAST, Duration.ofSeconds(5)));
        Updates.Update u = firstUpdate("r");
        assertEquals(HealthStatus.PASSING, u.status(), u.output());
        assertEquals("HTTP GET " + url + ": 200 OK Output: status 200", u.output());
        assertEquals(1, web.requests("/status/200").size());
    }

    @Test
    void refusedConnectionIsCriticalWithGoStyleError() throws Exception {
        int port = LocalServers.closedPort();
        String url = "http://127.0.0.1:" + port + "/health";
        checks.add(http("down", url, FAST, Duration.ofSeconds(5)));
        Updates.Update u = firstUpdate("down");
        assertEquals(HealthStatus.CRITICAL, u.status());
        assertEquals("Get \"" + url + "\": dial tcp 127.0.0.1:" + port + ": connect: connection refused", u.output());
    }

    @Test
    void hangingEndpointCostsOnlyItsOwnTimeout() throws Exception {
        Duration timeout = Duration.ofMillis(1200);
        try (LocalServers.Hanging hanging = new LocalServers.Hanging()) {
            AtomicInteger acceptedAtFirstResult = new AtomicInteger(-1);
            HealthChecks.Listener listener = (id, status, output) -> {
                if (id.startsWith("hang")) {
                    acceptedAtFirstResult.compareAndSet(-1, hanging.accepted.get());
                }
                updates.update(id, status, output);
            };
            try (HealthChecks own = new HealthChecks(listener, new SimpleMeterRegistry(),
                    Duration.ofMillis(50))) {
                long t0 = System.nanoTime();
                String url = "http://127.0.0.1:" + hanging.port() + "/hang";
                // Two hanging checks: more than the scheduler has threads, so blocking probes would show.
                own.add(http("hang1", url, FAST, timeout));
                own.add(http("hang2", url + "?2", FAST, timeout));
                own.add(http("healthy", web.url("/status/200"), FAST, Duration.ofSeconds(5)));

                Updates.Update hang = firstUpdate("hang1");
                assertEquals(HealthStatus.CRITICAL, hang.status());
                assertEquals("Get \"" + url + "\": timed out after 1.2s (Client.Timeout exceeded while awaiting "
                        + "headers)", hang.output());
                assertTrue(hang.nanos() - t0 >= timeout.toNanos(), "reported before its timeout");
                assertEquals(HealthStatus.CRITICAL, firstUpdate("hang2").status());
                assertEquals(2, acceptedAtFirstResult.get(), "a run in flight is not started again");

                long firstHang = Math.min(hang.nanos(), updates.first("hang2").nanos());
                List<Updates.Update> healthyMeanwhile = updates.of("healthy").stream()
                        .filter(u -> u.nanos() < firstHang).toList();
                assertTrue(healthyMeanwhile.size() >= 3, () -> "healthy check stalled: " + healthyMeanwhile);
                assertTrue(healthyMeanwhile.stream().allMatch(u -> u.status() == HealthStatus.PASSING),
                        healthyMeanwhile::toString);
            }
        }
    }

    @Test
    void tlsSkipVerifyAcceptsSelfSignedCertificates() throws Exception {
        try (LocalServers.Web tls = new LocalServers.Web(true)) {
            String url = tls.url("/status/200");
            checks.add(http("skip", url, "GET", Map.of(), "", true, FAST, Duration.ofSeconds(5)));
            checks.add(http("verify", url, "GET", Map.of(), "", false, FAST, Duration.ofSeconds(5)));
            Updates.Update skip = firstUpdate("skip");
            assertEquals(HealthStatus.PASSING, skip.status(), skip.output());
            assertEquals("HTTP GET " + url + ": 200 OK Output: status 200", skip.output());
            Updates.Update verify = firstUpdate("verify");
            assertEquals(HealthStatus.CRITICAL, verify.status());
            assertTrue(verify.output().startsWith("Get \"" + url + "\": tls: "), verify.output());
        }
    }

    @Test
    void checksRunAgainEveryInterval() {
        checks.add(http("c", web.url("/status/200"), FAST, Duration.ofSeconds(5)));
        Poll.until(WAIT, () -> updates.describe("c"), () -> updates.count("c") >= 3);
        assertTrue(web.requests("/status/200").size() >= 3);
        assertTrue(registry.get("weft.checks.runs").tags("type", "http", "status", "passing").counter().count() >= 3);
        assertEquals(1.0, registry.get("weft.checks.running").tags("type", "http").gauge().value());
        assertTrue(registry.get("weft.checks.duration").tags("type", "http").timer().count() >= 3);
    }
}
