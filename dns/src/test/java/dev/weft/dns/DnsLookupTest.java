package dev.weft.dns;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Table-driven lookups: each case is (qname, qtype → rcode, answer, authority, additional), asked of a real
 * server on a loopback ephemeral port with dnsjava's resolver, over UDP and again over TCP.
 */
class DnsLookupTest {
    private static TestCatalog catalog;
    private static DnsServer server;

    @BeforeAll
    static void start() {
        catalog = Fixtures.catalog();
        server = DnsServer.start(Fixtures.config().build(), catalog, new SimpleMeterRegistry());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /**
     * @param authority "" for none, else the owner of the SOA expected in the authority section
     */
    record Case(String name, int type, int rcode, List<String> answers, String authority, List<String> additional) {
        @Override
        public String toString() {
            return name + " " + Type.string(type);
        }
    }

    private static Case ok(String name, int type, List<String> answers, List<String> additional) {
        return new Case(name, type, Rcode.NOERROR, answers, "", additional);
    }

    private static Case ok(String name, int type, String... answers) {
        return ok(name, type, List.of(answers), List.of());
    }

    private static Case nxdomain(String name, int type, String zone) {
        return new Case(name, type, Rcode.NXDOMAIN, List.of(), zone, List.of());
    }

    private static Case nodata(String name, int type, String zone) {
        return new Case(name, type, Rcode.NOERROR, List.of(), zone, List.of());
    }

    static Stream<Case> cases() {
        return Stream.of(
                // services: only non-critical instances (node4's node check is critical)
                ok("web.service.weft", Type.A, "web.service.weft. 0 a 10.0.0.1", "web.service.weft. 0 a 10.0.0.2"),
                ok("WEB.Service.WEFT", Type.A, "web.service.weft. 0 a 10.0.0.1", "web.service.weft. 0 a 10.0.0.2"),
                ok("web.service.dc1.weft", Type.A, "web.service.dc1.weft. 0 a 10.0.0.1",
                        "web.service.dc1.weft. 0 a 10.0.0.2"),
                ok("web.service.weft", Type.ANY, "web.service.weft. 0 a 10.0.0.1", "web.service.weft. 0 a 10.0.0.2"),
                nxdomain("web.service.dc2.weft", Type.A, "weft."),
                ok("primary.web.service.weft", Type.A, "primary.web.service.weft. 0 a 10.0.0.1"),
                ok("V1.web.service.weft", Type.A, "v1.web.service.weft. 0 a 10.0.0.1",
                        "v1.web.service.weft. 0 a 10.0.0.2"),
                nxdomain("nope.web.service.weft", Type.A, "weft."),
                nodata("web.service.weft", Type.TXT, "weft."),
                nodata("web.service.weft", Type.AAAA, "weft."),
                ok("web.service.weft", Type.SRV,
                        List.of("web.service.weft. 0 srv 1 1 80 node1.node.dc1.weft.",
                                "web.service.weft. 0 srv 1 1 80 node2.node.dc1.weft."),
                        List.of("node1.node.dc1.weft. 0 a 10.0.0.1", "node2.node.dc1.weft. 0 a 10.0.0.2")),
                ok("_web._tcp.service.weft", Type.SRV,
                        List.of("_web._tcp.service.weft. 0 srv 1 1 80 node1.node.dc1.weft.",
                                "_web._tcp.service.weft. 0 srv 1 1 80 node2.node.dc1.weft."),
                        List.of("node1.node.dc1.weft. 0 a 10.0.0.1", "node2.node.dc1.weft. 0 a 10.0.0.2")),
                ok("_web._primary.service.dc1.weft", Type.SRV,
                        List.of("_web._primary.service.dc1.weft. 0 srv 1 1 80 node1.node.dc1.weft."),
                        List.of("node1.node.dc1.weft. 0 a 10.0.0.1")),
                // warning instances are included, with their warning weight
                ok("web-warn.service.weft", Type.SRV,
                        List.of("web-warn.service.weft. 0 srv 1 2 8080 node1.node.dc1.weft.",
                                "web-warn.service.weft. 0 srv 1 5 8080 node2.node.dc1.weft."),
                        List.of("node1.node.dc1.weft. 0 a 10.0.0.1", "node2.node.dc1.weft. 0 a 10.0.0.2")),
                // a service address of its own: <hex>.addr target
                ok("db.service.weft", Type.SRV, List.of("db.service.weft. 0 srv 1 3 5432 0a010001.addr.dc1.weft."),
                        List.of("0a010001.addr.dc1.weft. 0 a 10.1.0.1")),
                ok("db.service.weft", Type.A, "db.service.weft. 0 a 10.1.0.1"),
                ok("api.service.weft", Type.AAAA, "api.service.weft. 0 aaaa fd00:0:0:0:0:0:0:3"),
                nodata("api.service.weft", Type.A, "weft."),
                ok("api.service.weft", Type.SRV, List.of("api.service.weft. 0 srv 1 1 443 node3.node.dc1.weft."),
                        List.of("node3.node.dc1.weft. 0 aaaa fd00:0:0:0:0:0:0:3")),
                // a host name as service address: CNAME, SRV target the host itself
                ok("ext.service.weft", Type.A, "ext.service.weft. 0 cname external.example.com."),
                ok("ext.service.weft", Type.SRV, "ext.service.weft. 0 srv 1 1 443 external.example.com."),
                nxdomain("crit.service.weft", Type.A, "weft."),
                nxdomain("nosuch.service.weft", Type.A, "weft."),
                nxdomain("service.weft", Type.A, "weft."),
                nxdomain("a.b.c.service.weft", Type.A, "weft."),
                // nodes
                ok("node1.node.weft", Type.A, "node1.node.weft. 0 a 10.0.0.1"),
                ok("NODE1.node.dc1.weft", Type.A, "node1.node.dc1.weft. 0 a 10.0.0.1"),
                ok("node1.node.weft", Type.TXT, "node1.node.weft. 0 txt \"rack=r1\"",
                        "node1.node.weft. 0 txt \"v=spf1 -all\""),
                ok("node3.node.weft", Type.AAAA, "node3.node.weft. 0 aaaa fd00:0:0:0:0:0:0:3"),
                ok("node4.node.weft", Type.A, "node4.node.weft. 0 a 10.0.0.4"),
                nodata("node1.node.weft", Type.MX, "weft."),
                nodata("node2.node.weft", Type.TXT, "weft."),
                nxdomain("nosuch.node.weft", Type.A, "weft."),
                nxdomain("node1.node.dc9.weft", Type.A, "weft."),
                // addr
                ok("0a000001.addr.dc1.weft", Type.A, "0a000001.addr.dc1.weft. 0 a 10.0.0.1"),
                ok("fd000000000000000000000000000003.addr.dc1.weft", Type.AAAA,
                        "fd000000000000000000000000000003.addr.dc1.weft. 0 aaaa fd00:0:0:0:0:0:0:3"),
                nodata("0a000001.addr.dc1.weft", Type.AAAA, "weft."),
                nxdomain("zz.addr.dc1.weft", Type.A, "weft."),
                // apex
                ok("weft", Type.NS, List.of("weft. 0 ns ns.weft."), List.of("ns.weft. 0 a 127.0.0.1")),
                ok("ns.weft", Type.A, "ns.weft. 0 a 127.0.0.1"),
                nodata("weft", Type.A, "weft."),
                nxdomain("foo.weft", Type.A, "weft."),
                nxdomain("x.query.weft", Type.A, "weft."),
                // the alt domain answers in its own names
                ok("web.service.consul", Type.A, "web.service.consul. 0 a 10.0.0.1",
                        "web.service.consul. 0 a 10.0.0.2"),
                ok("db.service.dc1.consul", Type.SRV,
                        List.of("db.service.dc1.consul. 0 srv 1 3 5432 0a010001.addr.dc1.consul."),
                        List.of("0a010001.addr.dc1.consul. 0 a 10.1.0.1")),
                nxdomain("nosuch.node.consul", Type.A, "consul."),
                // reverse: node addresses, then service addresses
                ok("1.0.0.10.in-addr.arpa", Type.PTR, "1.0.0.10.in-addr.arpa. 0 ptr node1.node.dc1.weft."),
                ok("1.0.1.10.in-addr.arpa", Type.PTR, "1.0.1.10.in-addr.arpa. 0 ptr db.service.dc1.weft."),
                ok("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", Type.PTR,
                        "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 0 ptr "
                                + "node3.node.dc1.weft."),
                nxdomain("9.9.9.10.in-addr.arpa", Type.PTR, "weft."),
                // not ours, no recursors: refused
                new Case("example.com", Type.A, Rcode.REFUSED, List.of(), "", List.of()),
                new Case("1.168.192.in-addr.arpa", Type.PTR, Rcode.REFUSED, List.of(), "", List.of()));
    }

    @ParameterizedTest(name = "udp {0}")
    @MethodSource("cases")
    void overUdp(Case c) {
        check(c, Queries.query(server.udpAddress(), c.name(), c.type()));
    }

    @ParameterizedTest(name = "tcp {0}")
    @MethodSource("cases")
    void overTcp(Case c) {
        check(c, Queries.query(server.tcpAddress(), c.name(), c.type(), Queries.Options.tcpQuery()));
    }

    private static void check(Case c, Message m) {
        assertEquals(Rcode.string(c.rcode()), Rcode.string(m.getRcode()), c + ": rcode\n" + m);
        assertEquals(c.answers(), Queries.answers(m), c + ": answers\n" + m);
        assertEquals(c.additional(), Queries.additional(m), c + ": additional\n" + m);
        List<String> authority = new ArrayList<>();
        for (Record r : m.getSection(Section.AUTHORITY)) {
            authority.add(r.getName().toString().toLowerCase(Locale.ROOT) + " " + Type.string(r.getType()));
        }
        assertEquals(c.authority().isEmpty() ? List.of() : List.of(c.authority() + " SOA"), authority,
                c + ": authority\n" + m);
        boolean ours = c.rcode() != Rcode.REFUSED;
        assertEquals(ours, m.getHeader().getFlag(Flags.AA), c + ": AA\n" + m);
        assertFalse(m.getHeader().getFlag(Flags.RA), c + ": RA without recursors\n" + m);
        assertFalse(m.getHeader().getFlag(Flags.TC), c + ": TC\n" + m);
        assertTrue(m.getHeader().getFlag(Flags.RD), c + ": RD copied\n" + m);
    }

    @Test
    void questionEchoesTheAskedCase() {
        Message m = Queries.query(server.udpAddress(), "WeB.SeRvIcE.wEfT", Type.A);
        assertEquals("WeB.SeRvIcE.wEfT.", m.getQuestion().getName().toString());
        // asked again in another spelling, the cached answer still echoes the new one
        Message again = Queries.query(server.udpAddress(), "web.SERVICE.weft", Type.A);
        assertEquals("web.SERVICE.weft.", again.getQuestion().getName().toString());
        assertEquals(2, again.getSection(Section.ANSWER).size());
    }

    @Test
    void apexSoa() {
        Message m = Queries.query(server.udpAddress(), "weft", Type.SOA);
        SOARecord soa = (SOARecord) m.getSection(Section.ANSWER).get(0);
        assertEquals("ns.weft.", soa.getHost().toString());
        assertEquals("hostmaster.weft.", soa.getAdmin().toString());
        assertEquals(0, soa.getMinimum());
        assertTrue(m.getHeader().getFlag(Flags.AA));
    }

    @Test
    void nonInternetClassIsRefused() {
        Message m = Queries.query(server.udpAddress(), "web.service.weft", Type.A,
                Queries.Options.udp().inClass(DClass.CH));
        assertEquals(Rcode.REFUSED, m.getRcode());
    }
}
