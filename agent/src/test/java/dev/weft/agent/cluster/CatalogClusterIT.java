package dev.weft.agent.cluster;

import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Service discovery end to end on three servers in separate JVMs: a service registered with one agent is
 * answered by the DNS of another; when its agent is killed (-9) it leaves DNS within the node-health timeout;
 * with two of three servers down, the survivor's DNS still answers from its local view.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class CatalogClusterIT {
    private static final Duration NODE_HEALTH_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Leaving DNS may take the timeout, plus up to one leader tick (1 s) to notice the silence, plus an election
     * (about 1 s) when the killed agent was the leader, plus the write.
     */
    private static final Duration LEAVE_BOUND = NODE_HEALTH_TIMEOUT.plusSeconds(4);

    private static ForkedCluster cluster;

    @AfterAll
    static void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void registeredOnOneAgentResolvedOnAnotherAndGoneWhenItsAgentDies() throws Exception {
        cluster = ForkedCluster.start("catalog-cluster-it", 3,
                p -> List.of("-node-health-timeout", NODE_HEALTH_TIMEOUT.toSeconds() + "s"));
        try {
            scenario();
            cluster.deleteData();
        } catch (Throwable t) {
            throw new AssertionError(t + "\n" + cluster.logTails(), t);
        }
    }

    private void scenario() throws Exception {
        List<ForkedServer> s = cluster.servers;
        ForkedServer n1 = s.get(0);
        ForkedServer n2 = s.get(1);
        ForkedServer n3 = s.get(2);
        cluster.step("a. leader elected; every agent's node answers in DNS");
        cluster.awaitAgreedLeader(s, Duration.ofSeconds(60));
        for (ForkedServer x : s) {
            Poll.until(Duration.ofSeconds(30), () -> x.name + ".node.weft A on n2",
                    () -> addresses(n2, x.name + ".node.weft.").contains("127.0.0.1"));
        }

        cluster.step("b. register web on n1 and db on n2 (agent API, TTL check passing)");
        register(n1, "web1", "web", "127.0.0.11");
        register(n2, "db1", "db", "127.0.0.12");
        long t0 = System.nanoTime();
        Poll.until(Duration.ofSeconds(10), () -> "web.service.weft on n3",
                () -> addresses(n3, "web.service.weft.").equals(Set.of("127.0.0.11")));
        cluster.step("   web answered by n3's DNS " + (System.nanoTime() - t0) / 1_000_000 + " ms after registration");
        Poll.until(Duration.ofSeconds(10), () -> "db.service.weft on n3",
                () -> addresses(n3, "db.service.weft.").equals(Set.of("127.0.0.12")));

        cluster.step("c. kill -9 n1 (owner of web); web leaves DNS within " + LEAVE_BOUND);
        n1.kill();
        long killed = System.nanoTime();
        Poll.until(LEAVE_BOUND.plusSeconds(20), () -> "web.service.weft gone from n2",
                () -> addresses(n2, "web.service.weft.").isEmpty());
        Duration took = Duration.ofNanos(System.nanoTime() - killed);
        cluster.step("   web left DNS after " + took.toMillis() + " ms");
        assertTrue(took.compareTo(LEAVE_BOUND) <= 0, "web left DNS after " + took + ", bound " + LEAVE_BOUND);
        assertEquals(Set.of("127.0.0.12"), addresses(n2, "db.service.weft."), "db (alive agent) still answered");

        cluster.step("d. stop n3 too (SIGTERM): n2 alone has no quorum, its DNS keeps answering db");
        n3.stop();
        Poll.until(Duration.ofSeconds(30), () -> "n2 has no leader", () -> {
            String l = cluster.http.leader(n2.httpPort);
            return l != null && l.isEmpty();
        });
        for (int i = 0; i < 20; i++) {
            assertEquals(Set.of("127.0.0.12"), addresses(n2, "db.service.weft."), "db on n2 without quorum");
        }
        assertEquals(Set.of(), addresses(n2, "web.service.weft."));
        assertEquals(Rcode.NXDOMAIN, rcode(n2, "nosuch.service.weft."));
        cluster.step("done");
    }

    private static void register(ForkedServer agent, String id, String name, String address) throws Exception {
        String body = "{\"ID\":\"" + id + "\",\"Name\":\"" + name + "\",\"Address\":\"" + address
                + "\",\"Port\":8080,\"Check\":{\"TTL\":\"60s\",\"Status\":\"passing\"}}";
        KvHttpClient.Response r = cluster.http.send("PUT", agent.httpPort, "/v1/agent/service/register", body);
        assertEquals(200, r.status(), r.body());
    }

    private static Message query(ForkedServer s, String name) throws IOException {
        SimpleResolver r = new SimpleResolver(new InetSocketAddress("127.0.0.1", s.dnsPort));
        r.setTimeout(Duration.ofSeconds(2));
        return r.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
    }

    private static int rcode(ForkedServer s, String name) throws IOException {
        return query(s, name).getRcode();
    }

    private static Set<String> addresses(ForkedServer s, String name) throws IOException {
        Set<String> out = new TreeSet<>();
        for (Record rec : query(s, name).getSection(Section.ANSWER)) {
            if (rec instanceof ARecord a) {
                out.add(a.getAddress().getHostAddress());
            }
        }
        return out;
    }
}
