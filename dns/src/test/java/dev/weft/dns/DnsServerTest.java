package dev.weft.dns;

import dev.weft.kvstore.state.HealthStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.SRVRecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviour beyond single lookups: health, cache invalidation, shuffling, sizes, TTLs, listeners, metrics. */
class DnsServerTest {
    /** The configuration every case starts from; {@link BlockingUdpDnsServerTest} serves UDP from plain sockets. */
    DnsConfig.Builder config() {
        return Fixtures.config();
    }

    private final List<DnsServer> servers = new ArrayList<>();

    private DnsServer start(DnsConfig config, TestCatalog catalog) {
        return start(config, catalog, new SimpleMeterRegistry());
    }

    private DnsServer start(DnsConfig config, TestCatalog catalog, SimpleMeterRegistry registry) {
        DnsServer s = DnsServer.start(config, catalog, registry);
        servers.add(s);
        return s;
    }

    @AfterEach
    void closeServers() {
        servers.forEach(DnsServer::close);
    }

    private static List<String> answers(DnsServer s, String name, int type) {
        return Queries.answers(Queries.query(s.udpAddress(), name, type));
    }

    @Test
    void udpAndTcpShareOnePickedPort() {
        DnsServer s = start(config().build(), Fixtures.catalog());
        assertNotEquals(0, s.udpAddress().getPort());
        assertEquals(s.udpAddress().getPort(), s.tcpAddress().getPort());
        assertEquals(InetAddress.getLoopbackAddress(), s.udpAddress().getAddress());
    }

    @Test
    void onlyPassingDropsWarningInstances() {
        TestCatalog catalog = Fixtures.catalog();
        DnsServer all = start(config().build(), catalog);
        DnsServer passing = start(config().onlyPassing(true).build(), catalog);
        assertEquals(2, answers(all, "web-warn.service.weft", Type.A).size());
        assertEquals(List.of("web-warn.service.weft. 0 a 10.0.0.2"),
                answers(passing, "web-warn.service.weft", Type.A));
    }

    @Test
    void catalogChangesShowInTheNextAnswer() {
        TestCatalog catalog = Fixtures.catalog();
        DnsServer s = start(config().build(), catalog);
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());

        catalog.node("node5", "10.0.0.5")
                .service("node5", "web-5", "web", "", 80, List.of(), HealthStatus.PASSING);
        assertEquals(3, answers(s, "web.service.weft", Type.A).size());

        catalog.checkStatus("node1", "service:web-1", HealthStatus.CRITICAL);
        assertEquals(List.of("web.service.weft. 0 a 10.0.0.2", "web.service.weft. 0 a 10.0.0.5"),
                answers(s, "web.service.weft", Type.A));

        // the node's check turning passing brings node4's instance back
        catalog.nodeCheck("node4", HealthStatus.PASSING);
        assertEquals(3, answers(s, "web.service.weft", Type.A).size());

        catalog.deregister("node2", "web-2").deregister("node4", "web-4").deregister("node5", "web-5");
        Message gone = Queries.query(s.udpAddress(), "web.service.weft", Type.A);
        assertEquals(Rcode.NXDOMAIN, gone.getRcode());

        // node meta changes reach TXT answers
        catalog.node("node2", "10.0.0.2", Map.of("zone", "b"));
        assertEquals(List.of("node2.node.weft. 0 txt \"zone=b\""), answers(s, "node2.node.weft", Type.TXT));
    }

    @Test
    void negativeAnswersCarryTheSoaWithItsMinimumAsTtl() {
        DnsServer s = start(config().soaMinTtl(Duration.ofSeconds(30)).build(), Fixtures.catalog());
        Message m = Queries.query(s.udpAddress(), "nosuch.service.weft", Type.A);
        assertEquals(Rcode.NXDOMAIN, m.getRcode());
        SOARecord soa = (SOARecord) m.getSection(Section.AUTHORITY).get(0);
        assertEquals(30, soa.getTTL());
        assertEquals(30, soa.getMinimum());
        Message nodata = Queries.query(s.udpAddress(), "web.service.weft", Type.MX);
        assertEquals(Rcode.NOERROR, nodata.getRcode());
        assertTrue(nodata.getSection(Section.ANSWER).isEmpty());
        assertEquals(Type.SOA, nodata.getSection(Section.AUTHORITY).get(0).getType());
    }

    @Test
    void ttlsPerServiceWithWildcardAndPrefix() {
        DnsConfig config = config().nodeTtl(Duration.ofSeconds(15))
                .serviceTtl("*", Duration.ofSeconds(5))
                .serviceTtl("web", Duration.ofSeconds(30))
                .serviceTtl("web-*", Duration.ofSeconds(10))
                .build();
        DnsServer s = start(config, Fixtures.catalog());
        assertEquals(30, ttl(s, "web.service.weft", Type.A));
        assertEquals(10, ttl(s, "web-warn.service.weft", Type.A));
        assertEquals(5, ttl(s, "db.service.weft", Type.A));
        assertEquals(15, ttl(s, "node1.node.weft", Type.A));
        Message srv = Queries.query(s.udpAddress(), "web.service.weft", Type.SRV);
        for (Record r : srv.getSection(Section.ADDITIONAL)) {
            if (r.getType() == Type.A) {
                assertEquals(30, r.getTTL(), "additional A of an SRV answer: " + r);
            }
        }
    }

    private static long ttl(DnsServer s, String name, int type) {
        return Queries.query(s.udpAddress(), name, type).getSection(Section.ANSWER).get(0).getTTL();
    }

    @Test
    void orderIsShuffledPerQuery() {
        TestCatalog catalog = Fixtures.catalog();
        for (int i = 1; i <= 5; i++) {
            catalog.node("multi-" + i, "10.3.0." + i)
                    .service("multi-" + i, "multi-" + i, "multi", "", 80, List.of(), HealthStatus.PASSING);
        }
        DnsServer s = start(config().build(), catalog);
        Set<String> firsts = new HashSet<>();
        Set<List<String>> orders = new HashSet<>();
        for (int i = 0; i < 60; i++) {
            Message m = Queries.query(s.udpAddress(), "multi.service.weft", Type.A);
            List<String> order = new ArrayList<>();
            for (Record r : m.getSection(Section.ANSWER)) {
                order.add(r.rdataToString());
            }
            assertEquals(5, order.size());
            firsts.add(order.get(0));
            orders.add(order);
        }
        assertTrue(firsts.size() >= 3, "first records seen: " + firsts);
        assertTrue(orders.size() >= 3, "orders seen: " + orders.size());

        // large answers (rendered per query) are shuffled too
        Set<String> bigFirsts = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            Message m = Queries.query(s.tcpAddress(), "big.service.weft", Type.A, Queries.Options.tcpQuery());
            assertEquals(Fixtures.BIG, m.getSection(Section.ANSWER).size());
            bigFirsts.add(m.getSection(Section.ANSWER).get(0).rdataToString());
        }
        assertTrue(bigFirsts.size() >= 3, "first records seen: " + bigFirsts);
    }

    @Test
    void plainUdpIsTruncatedAt512BytesAndTcpGivesEverything() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DnsServer s = start(config().build(), Fixtures.catalog(), registry);

        Message udp = Queries.query(s.udpAddress(), "big.service.weft", Type.A);
        assertTrue(udp.getHeader().getFlag(Flags.TC), "TC over plain UDP");
        int kept = udp.getSection(Section.ANSWER).size();
        assertTrue(kept > 20 && kept < Fixtures.BIG, "answers that fit 512 bytes: " + kept);
        assertTrue(udp.toWire().length <= 512);
        assertTrue(registry.get("weft.dns.truncated").counter().count() >= 1);

        Message retried = Queries.query(s.udpAddress(), "big.service.weft", Type.A,
                Queries.Options.udp().retryOverTcp());
        assertFalse(retried.getHeader().getFlag(Flags.TC));
        assertEquals(Fixtures.BIG, retried.getSection(Section.ANSWER).size());

        Message srv = Queries.query(s.tcpAddress(), "big.service.weft", Type.SRV, Queries.Options.tcpQuery());
        assertEquals(Fixtures.BIG, srv.getSection(Section.ANSWER).size());
        assertEquals(Fixtures.BIG, srv.getSection(Section.ADDITIONAL).size());
    }

    @Test
    void ednsAnswersWithOptUpTo4096Bytes() {
        DnsServer s = start(config().build(), Fixtures.catalog());
        Message a = Queries.query(s.udpAddress(), "big.service.weft", Type.A, Queries.Options.udp().edns(4096));
        assertFalse(a.getHeader().getFlag(Flags.TC));
        assertEquals(Fixtures.BIG, a.getSection(Section.ANSWER).size());
        OPTRecord opt = a.getOPT();
        assertNotNull(opt, "OPT in the answer");
        assertEquals(4096, opt.getPayloadSize());

        // SRV targets are never compressed: 100 of them do not fit 4096 bytes
        Message srv = Queries.query(s.udpAddress(), "big.service.weft", Type.SRV, Queries.Options.udp().edns(4096));
        assertTrue(srv.getHeader().getFlag(Flags.TC));
        int kept = srv.getSection(Section.ANSWER).size();
        assertTrue(kept > 90 && kept < Fixtures.BIG, "SRV answers that fit: " + kept);
        assertTrue(srv.toWire().length <= 4096);

        // a payload above 4096 is capped
        Message capped = Queries.query(s.udpAddress(), "big.service.weft", Type.SRV,
                Queries.Options.udp().edns(65000));
        assertTrue(capped.getHeader().getFlag(Flags.TC));
        assertTrue(capped.toWire().length <= 4096);

        // without EDNS in the query, none in the answer
        assertEquals(null, Queries.query(s.udpAddress(), "web.service.weft", Type.A).getOPT());
    }

    @Test
    void additionalRecordsThatDoNotFitAreDroppedWithoutTc() {
        TestCatalog catalog = Fixtures.catalog();
        for (int i = 1; i <= 10; i++) {
            String node = String.format("mid-%02d", i);
            catalog.node(node, "10.4.0." + i).service(node, node, "mid", "", 80, List.of(), HealthStatus.PASSING);
        }
        DnsServer s = start(config().build(), catalog);
        Message srv = Queries.query(s.udpAddress(), "mid.service.weft", Type.SRV);
        assertFalse(srv.getHeader().getFlag(Flags.TC));
        assertEquals(10, srv.getSection(Section.ANSWER).size());
        int extra = srv.getSection(Section.ADDITIONAL).size();
        assertTrue(extra > 0 && extra < 10, "additional A records kept: " + extra);
        assertTrue(srv.toWire().length <= 512);
        // each kept additional record belongs to one of the answers
        Set<String> targets = new HashSet<>();
        for (Record r : srv.getSection(Section.ANSWER)) {
            targets.add(((SRVRecord) r).getTarget().toString());
        }
        for (Record r : srv.getSection(Section.ADDITIONAL)) {
            assertTrue(targets.contains(r.getName().toString()), r.toString());
        }
    }

    @Test
    void metricsCountQueriesCacheAndMalformed() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DnsServer s = start(config().build(), Fixtures.catalog(), registry);
        for (int i = 0; i < 3; i++) {
            Queries.query(s.udpAddress(), "web.service.weft", Type.A);
        }
        Queries.query(s.udpAddress(), "nosuch.service.weft", Type.A);
        assertEquals(3.0, registry.get("weft.dns.queries").tag("qtype", "A").tag("rcode", "NOERROR")
                .functionCounter().count());
        assertEquals(1.0, registry.get("weft.dns.queries").tag("qtype", "A").tag("rcode", "NXDOMAIN")
                .functionCounter().count());
        assertEquals(2.0, registry.get("weft.dns.cache.hits").functionCounter().count());
        assertEquals(2.0, registry.get("weft.dns.cache.misses").functionCounter().count());
        assertEquals(2.0, registry.get("weft.dns.cache.size").gauge().value());
    }

    @Test
    void queriesForManyDistinctNamesStayWithinTheCachesByteBound() {
        // A client agent runs in a 48 MiB heap: a flood of random names once filled 65,536 cache entries and
        // exhausted it. The byte bound starts a fresh generation instead.
        long bound = 16 * 1024;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DnsServer s = start(config().cacheBytes(bound).build(), Fixtures.catalog(), registry);
        double maxSeen = 0;
        for (int i = 0; i < 600; i++) {
            Message m = Queries.query(s.udpAddress(), "random-" + i + ".service.weft", Type.A);
            assertEquals(Rcode.NXDOMAIN, m.getRcode());
            double bytes = registry.get("weft.dns.cache.bytes").gauge().value();
            assertTrue(bytes <= bound, "cache bytes " + bytes + " > bound " + bound);
            maxSeen = Math.max(maxSeen, bytes);
        }
        assertTrue(maxSeen > bound / 2, "the cache filled up to its bound before starting afresh: " + maxSeen);
        assertTrue(registry.get("weft.dns.cache.size").gauge().value() < 600);
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());
        assertTrue(registry.get("weft.dns.cache.hits").functionCounter().count() >= 1, "cached answers still hit");
    }

    @Test
    void listenersAddedAndRemovedAtRuntime() throws IOException {
        DnsServer s = start(config().build(), Fixtures.catalog());
        InetSocketAddress extra = s.addListener(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
        assertEquals("127.0.0.2", extra.getAddress().getHostAddress());
        assertEquals(List.of(s.udpAddress(), extra), s.listeners());
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());
        assertEquals(2, Queries.answers(Queries.query(extra, "web.service.weft", Type.A)).size());
        assertEquals(2, Queries.answers(Queries.query(extra, "web.service.weft", Type.A,
                Queries.Options.tcpQuery())).size());

        assertTrue(s.removeListener(extra));
        assertFalse(s.removeListener(extra));
        assertThrows(ConnectException.class, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(extra, 2000);
            }
        });
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());
        assertFalse(s.removeListener(s.udpAddress()), "the main listener stays");
    }

    @Test
    void fixedPortAlreadyInUseFailsToStart() {
        DnsServer first = start(config().build(), Fixtures.catalog());
        DnsConfig same = config().port(first.udpAddress().getPort()).nativeTransport(false).build();
        assertThrows(IllegalStateException.class, () -> DnsServer.start(same, Fixtures.catalog(),
                new SimpleMeterRegistry()));
    }

    @Test
    void nioTransportAnswersToo() {
        DnsServer s = start(config().nativeTransport(false).build(), Fixtures.catalog());
        assertFalse(s.nativeTransport());
        assertEquals(2, answers(s, "web.service.weft", Type.A).size());
        assertEquals(2, Queries.answers(Queries.query(s.tcpAddress(), "web.service.weft", Type.SRV,
                Queries.Options.tcpQuery())).size());
        Message big = Queries.query(s.udpAddress(), "big.service.weft", Type.A, Queries.Options.udp().retryOverTcp());
        assertEquals(Fixtures.BIG, big.getSection(Section.ANSWER).size());
    }

    @Test
    void customDomainAndDatacenter() {
        DnsConfig config = config().domain("cluster.local").altDomain(null).datacenter("east").build();
        DnsServer s = start(config, Fixtures.catalog());
        assertEquals(List.of("db.service.east.cluster.local. 0 srv 1 3 5432 0a010001.addr.east.cluster.local."),
                answers(s, "db.service.east.cluster.local", Type.SRV));
        assertEquals(Rcode.NXDOMAIN, Queries.query(s.udpAddress(), "db.service.dc1.cluster.local", Type.A)
                .getRcode());
        assertEquals(Rcode.REFUSED, Queries.query(s.udpAddress(), "db.service.weft", Type.A).getRcode());
    }
}
