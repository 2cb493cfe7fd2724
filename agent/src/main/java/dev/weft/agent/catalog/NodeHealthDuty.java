package dev.weft.agent.catalog;

import dev.weft.kvstore.raft.LeaderDuty;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.KvReadView;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The leader's view of agent liveness. Every agent proposes a {@link Command.NodeHeartbeat} every few seconds;
 * each tick this duty compares the per-node heartbeat counters of the local view with the last tick, and when a
 * node's counter has not moved for {@code timeout} it proposes the node's {@code serfHealth} check critical, which
 * takes all of the node's services out of passing answers and DNS.
 *
 * <p>It also removes services of such dead nodes once a check of the service declares
 * {@code DeregisterCriticalServiceAfter} and the node has been critical that long (live agents reap their own
 * critical services, see {@link LocalAgentState}).
 *
 * <p>Times are the leader's own clock; nothing here is replicated. A new leader (or a leader that missed ticks)
 * starts every node's grace period afresh, so a leader change never marks a live node critical.
 */
public final class NodeHealthDuty implements LeaderDuty {
    private static final long NEW_LEADERSHIP_GAP_MILLIS = 3_000;

    private final long timeoutMillis;
    private long lastTick;
    private final Map<String, long[]> seen = new HashMap<>(); // node -> {heartbeat count, millis when it moved}
    private final Map<String, Long> criticalSince = new HashMap<>();

    public NodeHealthDuty(Duration timeout) {
        this.timeoutMillis = timeout.toMillis();
    }

    @Override
    public synchronized List<Command> due(KvReadView view, long now) {
        if (lastTick == 0 || now - lastTick > NEW_LEADERSHIP_GAP_MILLIS) {
            seen.clear();
            criticalSince.clear();
        }
        lastTick = now;
        CatalogView catalog = view.catalog();
        List<Command> out = new ArrayList<>();
        Set<String> present = new HashSet<>();
        for (CatalogNode node : catalog.nodes()) {
            String name = node.node();
            CatalogCheck health = catalog.check(name, CatalogView.NODE_HEALTH_CHECK);
            if (health == null) {
                continue; // registered through /v1/catalog/register: no agent behind it
            }
            present.add(name);
            long count = catalog.heartbeats(name);
            long[] s = seen.get(name);
            if (s == null || s[0] != count) {
                seen.put(name, new long[] {count, now});
                s = seen.get(name);
            }
            if (health.status() != HealthStatus.CRITICAL) {
                criticalSince.remove(name);
                if (now - s[1] >= timeoutMillis) {
                    out.add(new Command.CheckStatus(name, CatalogView.NODE_HEALTH_CHECK, HealthStatus.CRITICAL,
                            "Agent not heard from for " + Duration.ofMillis(now - s[1]).toSeconds() + "s"));
                }
                continue;
            }
            long since = criticalSince.computeIfAbsent(name, k -> now);
            for (CatalogService svc : catalog.servicesOfNode(name)) {
                long after = deregisterAfter(catalog, svc);
                if (after > 0 && now - since >= after) {
                    out.add(new Command.CatalogDeregister(name, svc.id(), null));
                }
            }
        }
        seen.keySet().retainAll(present);
        criticalSince.keySet().retainAll(present);
        return out;
    }

    private static long deregisterAfter(CatalogView catalog, CatalogService svc) {
        long min = 0;
        for (CatalogCheck ch : catalog.checksOfInstance(svc)) {
            long d = ch.deregisterCriticalAfterMillis();
            if (!ch.isNodeCheck() && d > 0 && (min == 0 || d < min)) {
                min = d;
            }
        }
        return min;
    }
}
