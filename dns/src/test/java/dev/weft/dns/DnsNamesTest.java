package dev.weft.dns;

import org.junit.jupiter.api.Test;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

import java.net.InetAddress;
import java.net.UnknownHostException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Name ↔ lookup mapping in both directions. */
class DnsNamesTest {
    private final DnsNames names = new DnsNames("weft.", "consul.", "dc1");
    private final Name weft = Name.fromConstantString("weft.");
    private final Name consul = Name.fromConstantString("consul.");

    private DnsNames.Parsed parse(String name) throws TextParseException {
        return names.parse(Name.fromString(name));
    }

    @Test
    void services() throws TextParseException {
        assertEquals(new DnsNames.Service(weft, "web", null), parse("web.service.weft."));
        assertEquals(new DnsNames.Service(weft, "web", null), parse("Web.SERVICE.dc1.Weft."));
        assertEquals(new DnsNames.Service(consul, "web", "v1"), parse("v1.web.service.consul."));
        assertEquals(new DnsNames.Service(weft, "web", null), parse("_web._tcp.service.weft."));
        assertEquals(new DnsNames.Service(weft, "web", null), parse("_web._udp.service.dc1.weft."));
        assertEquals(new DnsNames.Service(weft, "web", "primary"), parse("_web._primary.service.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("web.service.dc2.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("a.b.c.service.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("service.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("web.service.x.dc1.weft."));
    }

    @Test
    void nodesAddrsApex() throws TextParseException, UnknownHostException {
        assertEquals(new DnsNames.Node(weft, "node1"), parse("NODE1.node.weft."));
        assertEquals(new DnsNames.Node(weft, "host.example"), parse("host.example.node.dc1.weft."));
        assertEquals(new DnsNames.Addr(weft, InetAddress.getByName("10.0.0.1")), parse("0a000001.addr.dc1.weft."));
        assertEquals(new DnsNames.Addr(weft, InetAddress.getByName("fd00::3")),
                parse("fd000000000000000000000000000003.addr.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("0a00001.addr.dc1.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("0a00000g.addr.dc1.weft."));
        assertEquals(new DnsNames.Apex(consul), parse("CONSUL."));
        assertEquals(new DnsNames.NsHost(weft), parse("ns.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("x.query.weft."));
        assertEquals(new DnsNames.NoSuchName(weft), parse("whatever.weft."));
        assertInstanceOf(DnsNames.Outside.class, parse("example.com."));
        assertInstanceOf(DnsNames.Outside.class, parse("weft.example.com."));
    }

    @Test
    void reverse() throws TextParseException, UnknownHostException {
        assertEquals(new DnsNames.Reverse(InetAddress.getByName("10.0.0.1")), parse("1.0.0.10.in-addr.arpa."));
        assertEquals(new DnsNames.Reverse(InetAddress.getByName("fd00::3")),
                parse("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."));
        assertInstanceOf(DnsNames.Outside.class, parse("0.10.in-addr.arpa."));
        assertInstanceOf(DnsNames.Outside.class, parse("300.0.0.10.in-addr.arpa."));
        assertInstanceOf(DnsNames.Outside.class, parse("01.0.0.10.in-addr.arpa."));
        assertInstanceOf(DnsNames.Outside.class, parse("x.0.0.10.in-addr.arpa."));
    }

    @Test
    void builtNamesParseBack() throws UnknownHostException {
        Name node = names.nodeName("Node-7", consul);
        assertEquals("Node-7.node.dc1.consul.", node.toString());
        assertEquals(new DnsNames.Node(consul, "node-7"), names.parse(node));

        for (String ip : new String[] {"10.1.0.1", "fd00::3", "::1"}) {
            InetAddress a = InetAddress.getByName(ip);
            Name addr = names.addrName(a, weft);
            assertEquals(new DnsNames.Addr(weft, a), names.parse(addr));
            assertEquals(new DnsNames.Reverse(a), names.parse(DnsNames.reverseName(a)));
        }
        assertEquals("0a010001.addr.dc1.weft.", names.addrName(InetAddress.getByName("10.1.0.1"), weft).toString());

        Name service = names.serviceName("web", weft);
        assertEquals(new DnsNames.Service(weft, "web", null), names.parse(service));
        assertEquals(new DnsNames.NsHost(weft), names.parse(DnsNames.nsName(weft)));

        assertNull(names.nodeName("bad..name", weft));
        assertNull(names.nodeName("x".repeat(64), weft));
        assertNull(DnsNames.hostName(""));
        assertEquals("external.example.com.", DnsNames.hostName("external.example.com").toString());
    }
}
