package dev.weft.agent.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code PUT /v1/agent/leave} ({@code weft leave}) on servers of a 3-server cluster of separate processes, as
 * Consul's graceful leave: the server answers once it has left the Raft configuration, its node turns critical
 * ("Agent left the cluster") and it exits. After a follower and then the leader left, the last server commits
 * alone (one of three could not); the follower rejoins when started again on its data directory.
 */
class ServerLeaveIT {
    private static final Duration WITHIN = Duration.ofSeconds(60);

    @Test
    void serversThatLeaveLeaveTheRaftConfiguration() throws Exception {
        try (ForkedCluster c = ForkedCluster.start("server-leave-it", 3, p -> List.of())) {
            try {
                scenario(c);
                c.deleteData(); // logs stay under target/ for reading
            } catch (Throwable t) {
                throw new AssertionError(t + "\n" + c.logTails(), t);
            }
        }
    }

    private static void scenario(ForkedCluster c) throws Exception {
        KvHttpClient http = c.http;
        ForkedServer leader = c.awaitAgreedLeader(c.servers, WITHIN);
        assertTrue(http.put(leader.httpPort, "before", "1"));
        ForkedServer follower = c.servers.stream().filter(s -> s != leader).findFirst().orElseThrow();
        List<ForkedServer> rest = c.servers.stream().filter(s -> s != follower).toList();

        c.step("leave " + follower + " (a follower)");
        KvHttpClient.Response r = http.send("PUT", follower.httpPort, "/v1/agent/leave", "");
        assertEquals(200, r.status(), r.body());
        // The answer comes once the removal is committed.
        assertEquals(raftAddresses(rest), peers(http, leader.httpPort), "peers after the follower left");
        Poll.until(WITHIN, () -> follower + " to exit after leaving", () -> !follower.isAlive());
        Poll.until(WITHIN, () -> "the node that left to be critical on " + leader + ": " + safeJson(http,
                        leader.httpPort, "/v1/health/node/" + follower.name),
                () -> "critical".equals(nodeHealth(http, leader.httpPort, follower.name)));
        assertTrue(http.put(leader.httpPort, "two-of-two", "1"));

        c.step("leave " + leader + " (the leader)");
        r = http.send("PUT", leader.httpPort, "/v1/agent/leave", "");
        assertEquals(200, r.status(), r.body());
        ForkedServer last = rest.stream().filter(s -> s != leader).findFirst().orElseThrow();
        Poll.until(WITHIN, () -> leader + " to exit after leaving", () -> !leader.isAlive());
        c.awaitAgreedLeader(List.of(last), WITHIN);
        assertEquals(raftAddresses(List.of(last)), peers(http, last.httpPort), "peers after the leader left");
        // One server of three could not commit this; one of one can.
        assertTrue(http.put(last.httpPort, "alone", "1"), "a write to the last server");

        c.step("start " + follower + " again on its data directory");
        follower.start();
        Poll.until(WITHIN, () -> follower + " back in the configuration", () ->
                peers(http, last.httpPort).equals(raftAddresses(List.of(last, follower))));
        Poll.until(WITHIN, () -> follower + " to have caught up", () ->
                http.keys(follower.httpPort, "alone", "stale").contains("alone"));
        assertTrue(http.put(follower.httpPort, "rejoined", "1"), "a write through the server that rejoined");
    }

    private static Set<String> raftAddresses(List<ForkedServer> servers) {
        Set<String> out = new TreeSet<>();
        servers.forEach(s -> out.add(s.raftAddress()));
        return out;
    }

    private static Set<String> peers(KvHttpClient http, int port) throws Exception {
        Set<String> out = new TreeSet<>();
        for (JsonNode p : http.json(port, "/v1/status/peers")) {
            out.add(p.asText());
        }
        return out;
    }

    private static String safeJson(KvHttpClient http, int port, String path) {
        try {
            return http.json(port, path).toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** The status of the node's {@code serfHealth} check. */
    private static String nodeHealth(KvHttpClient http, int port, String node) throws Exception {
        for (JsonNode check : http.json(port, "/v1/health/node/" + node)) {
            if ("serfHealth".equals(check.path("CheckID").asText())) {
                return check.path("Status").asText();
            }
        }
        return "none";
    }
}
