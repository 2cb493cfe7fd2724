package dev.weft.dns;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Names outside our domains go to the configured recursors: test upstreams on loopback. */
class ForwardingTest {
    /** The configuration every case starts from; {@link BlockingUdpForwardingTest} serves UDP from plain sockets. */
    DnsConfig.Builder config() {
        return Fixtures.config();
    }

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private UpstreamServer upstream(UpstreamServer.Mode mode) throws IOException {
        UpstreamServer u = new UpstreamServer(mode);
        open.add(u);
        return u;
    }

    private DnsServer server(SimpleMeterRegistry registry, Duration timeout, InetSocketAddress... recursors) {
        DnsServer s = DnsServer.start(config().recursors(List.of(recursors)).recursorTimeout(timeout)
                .build(), Fixtures.catalog(), registry);
        open.add(s);
        return s;
    }

    private DnsServer server(InetSocketAddress... recursors) {
        return server(new SimpleMeterRegistry(), Duration.ofSeconds(2), recursors);
    }

    /** A loopback port where nothing listens (bound, then released). */
    private static InetSocketAddress deadPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return (InetSocketAddress) s.getLocalSocketAddress();
        }
    }

    @Test
    void forwardsOtherNamesAndSetsRa() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DnsServer s = server(registry, Duration.ofSeconds(2), up.address());

        Message m = Queries.query(s.udpAddress(), "example.test", Type.A);
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(List.of("example.test. 60 a 192.0.2.1"), Queries.answers(m));
        assertTrue(m.getHeader().getFlag(Flags.RA));
        assertFalse(m.getHeader().getFlag(Flags.AA));

        Message tcp = Queries.query(s.tcpAddress(), "example.test", Type.A, Queries.Options.tcpQuery());
        assertEquals(List.of("example.test. 60 a 192.0.2.1"), Queries.answers(tcp));

        Message nx = Queries.query(s.udpAddress(), "nosuch.invalid", Type.A);
        assertEquals(Rcode.NXDOMAIN, nx.getRcode());

        // our own names never leave the agent; RA is set on them too
        int before = up.udpQueries.get();
        Message local = Queries.query(s.udpAddress(), "web.service.weft", Type.A);
        assertEquals(2, local.getSection(Section.ANSWER).size());
        assertTrue(local.getHeader().getFlag(Flags.RA));
        assertTrue(local.getHeader().getFlag(Flags.AA));
        assertEquals(before, up.udpQueries.get());

        assertEquals(3.0, registry.get("weft.dns.forwarded").tag("result", "ok").counter().count());
    }

    @Test
    void truncatedUpstreamAnswerIsRetriedOverTcp() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.TRUNCATE_UDP);
        DnsServer s = server(up.address());
        Message m = Queries.query(s.udpAddress(), "example.test", Type.A);
        assertEquals(List.of("example.test. 60 a 192.0.2.1"), Queries.answers(m));
        assertEquals(1, up.udpQueries.get());
        assertEquals(1, up.tcpQueries.get());
    }

    @Test
    void largeForwardedAnswersAreTruncatedForTheClientAndCompleteOverTcp() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(up.address());
        Message udp = Queries.query(s.udpAddress(), "big.example.test", Type.A);
        assertTrue(udp.getHeader().getFlag(Flags.TC));
        assertTrue(udp.toWire().length <= 512);
        Message tcp = Queries.query(s.udpAddress(), "big.example.test", Type.A, Queries.Options.udp().retryOverTcp());
        assertEquals(100, tcp.getSection(Section.ANSWER).size());
    }

    /**
     * Regression: the upstream UDP socket used to be closed inside its own read; epoll's read loop could then read
     * its descriptor number once more after another thread had accepted a TCP connection with that number, and
     * a TCP client's query vanished. Each round forwards over UDP, then asks over TCP at once.
     */
    @Test
    void tcpQueryRightAfterAForwardIsAnswered() throws IOException {
        for (int round = 0; round < 150; round++) {
            try (UpstreamServer up = new UpstreamServer(UpstreamServer.Mode.NORMAL);
                 DnsServer s = DnsServer.start(config().recursors(List.of(up.address()))
                         .recursorTimeout(Duration.ofSeconds(2)).build(), Fixtures.catalog(),
                         new SimpleMeterRegistry())) {
                Queries.query(s.udpAddress(), "big.example.test", Type.A);
                Message tcp = Queries.rawTcpQuery(s.tcpAddress(), "big.example.test", Type.A, Duration.ofSeconds(3));
                assertEquals(100, tcp.getSection(Section.ANSWER).size(), "round " + round);
            }
        }
    }

    @Test
    void deadFirstUpstreamFallsThroughToTheNext() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(deadPort(), up.address());
        Message m = Queries.query(s.udpAddress(), "example.test", Type.A);
        assertEquals(List.of("example.test. 60 a 192.0.2.1"), Queries.answers(m));
    }

    @Test
    void silentUpstreamTimesOutThenTheNextAnswers() throws IOException {
        UpstreamServer silent = upstream(UpstreamServer.Mode.SILENT);
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(new SimpleMeterRegistry(), Duration.ofMillis(300), silent.address(), up.address());
        Message m = Queries.query(s.udpAddress(), "example.test", Type.A);
        assertEquals(List.of("example.test. 60 a 192.0.2.1"), Queries.answers(m));
        assertEquals(1, silent.udpQueries.get());
    }

    @Test
    void servfailFromOneUpstreamTriesTheNext() throws IOException {
        UpstreamServer failing = upstream(UpstreamServer.Mode.SERVFAIL);
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(failing.address(), up.address());
        Message m = Queries.query(s.udpAddress(), "example.test", Type.A);
        assertEquals(List.of("example.test. 60 a 192.0.2.1"), Queries.answers(m));
        assertEquals(1, failing.udpQueries.get());
    }

    @Test
    void noUpstreamAnsweringIsServfail() throws IOException {
        UpstreamServer failing = upstream(UpstreamServer.Mode.SERVFAIL);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DnsServer s = server(registry, Duration.ofMillis(500), deadPort(), failing.address());
        Message m = Queries.query(s.udpAddress(), "example.test", Type.A);
        assertEquals(Rcode.SERVFAIL, m.getRcode());
        assertEquals(1.0, registry.get("weft.dns.forwarded").tag("result", "failed").counter().count());
        // and the server keeps answering its own names
        assertEquals(2, Queries.query(s.udpAddress(), "web.service.weft", Type.A)
                .getSection(Section.ANSWER).size());
    }

    @Test
    void withoutRecursionDesiredNothingIsForwarded() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(up.address());
        Message m = Queries.query(s.udpAddress(), "example.test", Type.A, Queries.Options.udp().noRecursion());
        assertEquals(Rcode.REFUSED, m.getRcode());
        assertEquals(0, up.udpQueries.get());
    }

    @Test
    void reverseNamesNotInTheCatalogAreForwarded() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(up.address());
        assertEquals(List.of("4.3.2.1.in-addr.arpa. 60 ptr upstream.test."),
                Queries.answers(Queries.query(s.udpAddress(), "4.3.2.1.in-addr.arpa", Type.PTR)));
        assertEquals(List.of("1.0.0.10.in-addr.arpa. 0 ptr node1.node.dc1.weft."),
                Queries.answers(Queries.query(s.udpAddress(), "1.0.0.10.in-addr.arpa", Type.PTR)));
    }

    @Test
    void forwardedAnswerEchoesTheClientsIdAndCase() throws IOException {
        UpstreamServer up = upstream(UpstreamServer.Mode.NORMAL);
        DnsServer s = server(up.address());
        Message m = Queries.query(s.udpAddress(), "ExAmPlE.TeSt", Type.A);
        assertEquals("ExAmPlE.TeSt.", m.getQuestion().getName().toString());
        assertEquals(1, m.getSection(Section.ANSWER).size());
    }
}
