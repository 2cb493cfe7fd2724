package dev.weft.agent.catalog;

import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.KvState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leader's liveness decisions, driven by a pure state and an explicit clock. */
class NodeHealthDutyTest {
    private KvState state;
    private long index;
    private NodeHealthDuty duty;

    @BeforeEach
    void setUp() {
        state = new KvState();
        duty = new NodeHealthDuty(Duration.ofSeconds(10));
        agentNode("a", 60_000);
        agentNode("b", 0);
        // A node registered through /v1/catalog/register has no serfHealth: never judged.
        apply(new Command.CatalogRegister(new CatalogNode("external", "", "10.0.0.9", Map.of(), Map.of(), 0, 0),
                null, List.of(), false));
    }

    private void agentNode(String name, long deregisterAfterMillis) {
        CatalogNode node = new CatalogNode(name, "", "127.0.0.1", Map.of(), Map.of(), 0, 0);
        CatalogCheck health = new CatalogCheck(name, CatalogView.NODE_HEALTH_CHECK, "Serf Health Status",
                HealthStatus.PASSING, "", "", "", "", List.of(), "", "", "", 0, 0, 0);
        CatalogService web = new CatalogService(name, "web1", "web", List.of(), "", 80, Map.of(), 1, 1, false, 0, 0);
        CatalogCheck webCheck = new CatalogCheck(name, "service:web1", "web", HealthStatus.PASSING, "", "", "web1",
                "", List.of(), "ttl", "", "", deregisterAfterMillis, 0, 0);
        apply(new Command.CatalogRegister(node, web, List.of(health, webCheck), false));
    }

    private void apply(Command c) {
        state.apply(++index, c);
    }

    private List<Command> tick(long now) {
        List<Command> due = duty.due(state, now);
        due.forEach(this::apply);
        return due;
    }

    private HealthStatus health(String node) {
        return state.catalog().check(node, CatalogView.NODE_HEALTH_CHECK).status();
    }

    @Test
    void silentNodeTurnsCriticalAfterTimeoutAndHeartbeatRevivesIt() {
        long t = 1_000_000;
        for (long s = 0; s <= 9; s++) {
            apply(new Command.NodeHeartbeat("a")); // a keeps beating, b is silent
            assertTrue(tick(t + s * 1000).isEmpty(), "nothing due at second " + s);
        }
        apply(new Command.NodeHeartbeat("a"));
        List<Command> due = tick(t + 10_000);
        assertEquals(1, due.size(), due.toString());
        assertEquals(HealthStatus.CRITICAL, health("b"));
        assertEquals(HealthStatus.PASSING, health("a"));
        assertEquals(HealthStatus.CRITICAL, state.catalog().health(state.catalog().service("b", "web1")));
        assertTrue(state.catalog().check("b", CatalogView.NODE_HEALTH_CHECK).output().contains("not heard"));
        assertTrue(tick(t + 11_000).isEmpty(), "already critical: not proposed again");

        apply(new Command.NodeHeartbeat("b"));
        assertEquals(HealthStatus.PASSING, health("b"));
        assertTrue(tick(t + 12_000).isEmpty());
    }

    @Test
    void newLeadershipStartsEveryGracePeriodAfresh() {
        long t = 5_000_000;
        tick(t);
        // This leader lost leadership for a minute (no ticks), nobody heart-beat meanwhile in its view.
        for (long s = 60; s < 70; s++) {
            assertTrue(tick(t + s * 1000).isEmpty(), "a gap in ticks is a new leadership: grace restarts (" + s + ")");
        }
        assertEquals(2, tick(t + 70_000).size(), "both agent nodes silent for 10s since the new leadership");
    }

    @Test
    void servicesOfDeadNodesGoAfterDeregisterCriticalServiceAfter() {
        long t = 9_000_000;
        for (long s = 0; s <= 10; s++) {
            tick(t + s * 1000);
        }
        assertEquals(HealthStatus.CRITICAL, health("a"));
        long criticalAt = t + 11_000;
        tick(criticalAt);
        for (long s = 1; s < 60; s++) {
            tick(criticalAt + s * 1000);
            assertTrue(state.catalog().service("a", "web1") != null, "still there after " + s + "s");
        }
        tick(criticalAt + 60_000);
        assertEquals(null, state.catalog().service("a", "web1"), "a's web1 declares 60s");
        assertTrue(state.catalog().service("b", "web1") != null, "b's web1 declares nothing: kept");
        assertTrue(state.catalog().node("a") != null, "the node itself stays (critical)");
    }
}
