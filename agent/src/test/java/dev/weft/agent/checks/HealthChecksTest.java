package dev.weft.agent.checks;

import dev.weft.agent.checks.CheckDefinition.Kind;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.testing.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TCP and TTL checks, and the runner's lifecycle (remove, replace, close, minimum interval). */
class HealthChecksTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration FAST = Duration.ofMillis(100);

    private final Updates updates = new Updates();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private HealthChecks checks;
    private ServerSocket open;

    @BeforeEach
    void start() throws IOException {
        checks = new HealthChecks(updates, registry, Duration.ofMillis(50));
        open = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()); // the kernel completes connects
    }

    @AfterEach
    void stop() throws IOException {
        checks.close();
        open.close();
    }

    static CheckDefinition tcp(String id, String target, Duration interval) {
        return new CheckDefinition(id, id, "", "", Kind.TCP, "", "", null, "", false, target, null, interval,
                Duration.ofSeconds(2), HealthStatus.CRITICAL, null);
    }

    static CheckDefinition ttl(String id, Duration ttl, HealthStatus initial) {
        return new CheckDefinition(id, id, "", "", Kind.TTL, "", "", null, "", false, "", ttl, null, null, initial,
                null);
    }

    private Updates.Update first(String id) {
        return Poll.until(WAIT, () -> updates.describe(id), () -> updates.first(id));
    }

    private void waitForCount(String id, int n) {
        Poll.until(WAIT, () -> "at least " + n + " updates; " + updates.describe(id), () -> updates.count(id) >= n);
    }

    // ---- TCP ---------------------------------------------------------------------------------------------------

    @Test
    void tcpOpenPortIsPassing() {
        String target = "127.0.0.1:" + open.getLocalPort();
        checks.add(tcp("t", target, FAST));
        Updates.Update u = first("t");
        assertEquals(HealthStatus.PASSING, u.status());
        assertEquals("TCP connect " + target + ": Success", u.output());
    }

    @Test
    void tcpByHostNameIsPassing() {
        String target = "localhost:" + open.getLocalPort();
        checks.add(tcp("t", target, FAST));
        assertEquals(new Updates.Update("t", HealthStatus.PASSING, "TCP connect " + target + ": Success", 0),
                withoutTime(first("t")));
    }

    @Test
    void tcpClosedPortIsCritical() throws IOException {
        int port = LocalServers.closedPort();
        checks.add(tcp("t", "127.0.0.1:" + port, FAST));
        Updates.Update u = first("t");
        assertEquals(HealthStatus.CRITICAL, u.status());
        assertEquals("dial tcp 127.0.0.1:" + port + ": connect: connection refused", u.output());
    }

    // ---- TTL ---------------------------------------------------------------------------------------------------

    @Test
    void ttlUpdatesSetStatusAndOutput() {
        checks.add(ttl("hb", Duration.ofSeconds(30), HealthStatus.CRITICAL));
        assertTrue(checks.ttlUpdate("hb", HealthStatus.PASSING, "all good"));
        assertEquals(List.of(HealthStatus.PASSING), statuses("hb"), "reported before ttlUpdate returns");
        assertTrue(checks.ttlUpdate("hb", HealthStatus.WARNING, "slow"));
        assertTrue(checks.ttlUpdate("hb", HealthStatus.CRITICAL, "broken"));
        assertTrue(checks.ttlUpdate("hb", HealthStatus.PASSING, ""));
        assertEquals(List.of(HealthStatus.PASSING, HealthStatus.WARNING, HealthStatus.CRITICAL, HealthStatus.PASSING),
                statuses("hb"));
        assertEquals(List.of("all good", "slow", "broken", ""), updates.of("hb").stream().map(Updates.Update::output)
                .toList());
        assertEquals(4.0, registry.get("weft.checks.runs").tags("type", "ttl").counters().stream()
                .mapToDouble(c -> c.count()).sum());
    }

    @Test
    void ttlOutputIsTruncatedTo4KiB() {
        checks.add(ttl("hb", Duration.ofSeconds(30), HealthStatus.CRITICAL));
        assertTrue(checks.ttlUpdate("hb", HealthStatus.PASSING, "é".repeat(3000)));
        String out = updates.last("hb").output();
        assertEquals(4096, out.getBytes(StandardCharsets.UTF_8).length);
        assertEquals("é".repeat(2048), out);
    }

    @Test
    void ttlUpdateOfUnknownOrNonTtlCheckIsRefused() {
        checks.add(tcp("t", "127.0.0.1:" + open.getLocalPort(), Duration.ofSeconds(30)));
        assertFalse(checks.ttlUpdate("nope", HealthStatus.PASSING, ""));
        assertFalse(checks.ttlUpdate("t", HealthStatus.PASSING, ""));
    }

    @Test
    void ttlStartsInItsStatusAndExpiresToCritical() {
        long t0 = System.nanoTime();
        checks.add(ttl("hb", Duration.ofMillis(300), HealthStatus.WARNING));
        Updates.Update u = first("hb");
        assertEquals(HealthStatus.CRITICAL, u.status());
        assertEquals("TTL expired", u.output());
        assertTrue(u.nanos() - t0 >= Duration.ofMillis(300).toNanos(), "expired early");
        assertEquals(1, updates.count("hb"), "nothing reported before the TTL ran out");

        assertTrue(checks.ttlUpdate("hb", HealthStatus.PASSING, "back"), "an expired TTL check takes updates");
        assertEquals(HealthStatus.PASSING, updates.last("hb").status());
        Poll.until(WAIT, () -> updates.describe("hb"), () -> updates.count("hb") == 3);
        assertEquals("TTL expired (last output before timeout follows): back", updates.last("hb").output());
    }

    @Test
    void ttlUpdatesPostponeExpiry() throws Exception {
        Duration ttl = Duration.ofMillis(400);
        checks.add(ttl("hb", ttl, HealthStatus.CRITICAL));
        ScheduledExecutorService client = Executors.newSingleThreadScheduledExecutor();
        try {
            client.scheduleAtFixedRate(() -> checks.ttlUpdate("hb", HealthStatus.PASSING, "alive"), 0, 100,
                    TimeUnit.MILLISECONDS);
            waitForCount("hb", 12); // about 1.2 s: three TTLs
        } finally {
            client.shutdownNow();
            assertTrue(client.awaitTermination(5, TimeUnit.SECONDS));
        }
        int updated = updates.count("hb");
        assertTrue(updates.of("hb").stream().allMatch(u -> u.status() == HealthStatus.PASSING),
                () -> "expired while being updated: " + updates.describe("hb"));
        Poll.until(WAIT, () -> updates.describe("hb"), () -> updates.count("hb") > updated);
        assertEquals(HealthStatus.CRITICAL, updates.last("hb").status());
        assertEquals("TTL expired (last output before timeout follows): alive", updates.last("hb").output());
    }

    // ---- lifecycle ---------------------------------------------------------------------------------------------

    @Test
    void removeStopsReporting() {
        String target = "127.0.0.1:" + open.getLocalPort();
        checks.add(tcp("gone", target, FAST));
        checks.add(tcp("stays", target, FAST));
        waitForCount("gone", 2);
        checks.add(ttl("ttl-gone", Duration.ofMillis(300), HealthStatus.PASSING));
        checks.remove("gone");
        checks.remove("ttl-gone");
        int atRemove = updates.count("gone");
        int staysAtRemove = updates.count("stays");
        assertEquals(Set.of("stays"), checks.ids());
        assertFalse(checks.ttlUpdate("ttl-gone", HealthStatus.PASSING, ""));

        waitForCount("stays", staysAtRemove + 5); // five intervals later: more than two TTLs of ttl-gone
        assertTrue(updates.count("gone") <= atRemove + 1, () -> "still reporting: " + updates.describe("gone"));
        assertNull(updates.first("ttl-gone"), () -> updates.describe("ttl-gone"));
        checks.remove("never-added"); // ignored
    }

    @Test
    void addWithSameIdReplaces() throws IOException {
        int closed = LocalServers.closedPort();
        checks.add(tcp("c", "127.0.0.1:" + closed, FAST));
        assertEquals(HealthStatus.CRITICAL, first("c").status());

        String target = "127.0.0.1:" + open.getLocalPort();
        checks.add(tcp("c", target, FAST));
        Poll.until(WAIT, () -> updates.describe("c"), () -> updates.of("c").stream()
                .filter(u -> u.output().equals("TCP connect " + target + ": Success")).count() >= 3);
        Updates.Update last = updates.last("c");
        assertEquals(HealthStatus.PASSING, last.status(), last.output());
        assertEquals(Set.of("c"), checks.ids());
        assertEquals(1.0, registry.get("weft.checks.running").tags("type", "tcp").gauge().value());

        checks.add(ttl("c", Duration.ofSeconds(30), HealthStatus.CRITICAL)); // another kind under the same ID
        assertTrue(checks.ttlUpdate("c", HealthStatus.WARNING, "now a TTL check"));
        assertEquals(0.0, registry.get("weft.checks.running").tags("type", "tcp").gauge().value());
        assertEquals(1.0, registry.get("weft.checks.running").tags("type", "ttl").gauge().value());
    }

    @Test
    void intervalsBelowTheMinimumAreRaised() {
        try (HealthChecks strict = new HealthChecks(updates, new SimpleMeterRegistry(), Duration.ofMillis(600))) {
            String target = "127.0.0.1:" + open.getLocalPort();
            long t0 = System.nanoTime();
            strict.add(tcp("slow", target, Duration.ofMillis(10)));
            waitForCount("slow", 3);
            long elapsed = updates.of("slow").get(2).nanos() - t0;
            assertTrue(elapsed >= Duration.ofMillis(1200).toNanos(), () -> "ran faster than the minimum: "
                    + Duration.ofNanos(elapsed));
        }
    }

    @Test
    void firstRunIsStaggeredWithinOneInterval() {
        Duration interval = Duration.ofSeconds(1);
        String target = "127.0.0.1:" + open.getLocalPort();
        long t0 = System.nanoTime();
        int n = 8;
        for (int i = 0; i < n; i++) {
            checks.add(tcp("s" + i, target, interval));
        }
        long earliest = Long.MAX_VALUE;
        long latest = 0;
        for (int i = 0; i < n; i++) {
            long at = first("s" + i).nanos() - t0;
            earliest = Math.min(earliest, at);
            latest = Math.max(latest, at);
        }
        long spread = latest - earliest;
        // Never later than one interval (plus slack for a loaded machine); spread out, not all at once (eight
        // uniform draws within 150 ms of each other: odds about 1 in 70,000).
        assertTrue(latest < interval.plusMillis(300).toNanos(), "first run later than one interval");
        assertTrue(spread >= Duration.ofMillis(150).toNanos(), () -> "not staggered: spread "
                + Duration.ofNanos(spread));
    }

    @Test
    void closeStopsEverything() {
        checks.add(ttl("hb", Duration.ofSeconds(30), HealthStatus.PASSING));
        checks.close();
        assertEquals(Set.of(), checks.ids());
        assertFalse(checks.ttlUpdate("hb", HealthStatus.PASSING, ""));
        assertThrows(IllegalStateException.class, () -> checks.add(ttl("x", Duration.ofSeconds(1),
                HealthStatus.PASSING)));
        assertTrue(registry.find("weft.checks.running").gauges().isEmpty(), "gauges removed");
        checks.close(); // idempotent
    }

    private List<HealthStatus> statuses(String id) {
        return updates.of(id).stream().map(Updates.Update::status).toList();
    }

    private static Updates.Update withoutTime(Updates.Update u) {
        return new Updates.Update(u.checkId(), u.status(), u.output(), 0);
    }
}
