package dev.weft.net.dataplane;

import static dev.weft.net.dataplane.Probes.WAIT;
import static dev.weft.net.dataplane.Probes.assertTcp;
import static dev.weft.net.dataplane.Probes.echoServer;
import static dev.weft.net.dataplane.Probes.tcpOnce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.testing.Poll;
import dev.weft.net.dataplane.OverlayLab.Host;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.MacAddress;
import dev.weft.net.netlink.NetNs;
import dev.weft.net.netlink.NetlinkClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The data plane against a real kernel: simulated hosts (namespaces joined by an underlay bridge) run
 * {@link DataPlane#reconcile}, containers (namespaces) are attached with {@link DataPlane#attach}, and real
 * TCP and UDP go between them.
 */
class DataPlaneTest {
    private static final UnderlaySettings UNDERLAY = UnderlaySettings.defaults();
    private static final Network BLUE = OverlayLab.network("blue", 101);
    private static final Network GREEN = OverlayLab.network("green", 102);

    private OverlayLab lab;

    @AfterEach
    void removeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    /** Reconciles {@code network} on each host with every other host as remote. */
    private void reconcileAll(Network network, Host... hosts) {
        List<HostLease> leases = new ArrayList<>();
        for (Host h : hosts) {
            leases.add(h.lease(network));
        }
        for (Host h : hosts) {
            h.dataPlane().reconcile(network, h.lease(network), leases, UNDERLAY);
        }
    }

    /** A container namespace on {@code host} attached to {@code network} as endpoint {@code n}. */
    private Path container(Network network, Host host, int n) {
        Path ns = lab.container(network.vni() + "h" + host.number() + "n" + n);
        host.dataPlane().attach(network, host.lease(network), lab.endpoint(network, host, n), ns, "eth0");
        return ns;
    }

    @Test
    void containersOnTwoHostsTalkAndASecondReconcileChangesNothing() throws IOException {
        lab = new OverlayLab(2);
        Host a = lab.host(1);
        Host b = lab.host(2);
        List<HostLease> leases = List.of(a.lease(BLUE), b.lease(BLUE));
        Reconciliation first = a.dataPlane().reconcile(BLUE, a.lease(BLUE), leases, UNDERLAY);
        assertFalse(first.unchanged(), first.toString());
        b.dataPlane().reconcile(BLUE, b.lease(BLUE), leases, UNDERLAY);
        Path ca = container(BLUE, a, 2);
        Path cb = container(BLUE, b, 2);
        Endpoint eb = lab.endpoint(BLUE, b, 2);
        Endpoint ea = lab.endpoint(BLUE, a, 2);
        try (ServerSocket sb = echoServer(cb, eb.ip()); ServerSocket sa = echoServer(ca, ea.ip())) {
            assertTcp(ca, eb.ip(), sb);
            assertTcp(cb, ea.ip(), sa);
        }
        DataPlane dp = a.dataPlane();
        Reconciliation second = dp.reconcile(BLUE, a.lease(BLUE), leases, UNDERLAY);
        assertTrue(second.unchanged(), second.toString());
        assertTrue(dp.reconcile(BLUE, a.lease(BLUE), leases, UNDERLAY).unchanged());

        // the kernel as `ip` sees it on host A
        JsonNode vx = lab.ipJson(a.ns(), "-d", "link", "show", "wfv101").get(0);
        JsonNode info = vx.get("linkinfo").get("info_data");
        assertEquals(101, info.get("id").asInt());
        assertEquals(4789, info.get("port").asInt());
        assertEquals("192.168.213.1", info.get("local").asText());
        assertFalse(info.path("learning").asBoolean(true), info.toString());
        assertEquals(a.lease(BLUE).vtepMac().toString(), vx.get("address").asText());
        assertEquals(OverlayLab.UNDERLAY_MTU - 50, vx.get("mtu").asInt());
        assertEquals(List.of("10.101.1.0/32"), addresses(a.ns(), "wfv101"));
        assertEquals(List.of("10.101.1.1/24"), addresses(a.ns(), "wfb101"));
        JsonNode route = lab.ipJson(a.ns(), "route", "show", "dev", "wfv101").get(0);
        assertEquals("10.101.2.0/24", route.get("dst").asText());
        assertEquals("10.101.2.0", route.get("gateway").asText());
        assertTrue(route.get("flags").toString().contains("onlink"), route.toString());
        JsonNode neigh = lab.ipJson(a.ns(), "neigh", "show", "dev", "wfv101").get(0);
        assertEquals("10.101.2.0", neigh.get("dst").asText());
        assertEquals(b.lease(BLUE).vtepMac().toString(), neigh.get("lladdr").asText());
        assertTrue(neigh.get("state").toString().contains("PERMANENT"), neigh.toString());
        JsonNode fdb = lab.fdbJson(a.ns(), "wfv101");
        assertEquals(1, fdb.size(), fdb.toString());
        assertEquals(b.lease(BLUE).vtepMac().toString(), fdb.get(0).get("mac").asText());
        assertEquals("192.168.213.2", fdb.get(0).get("dst").asText());
        // the container's side
        JsonNode eth0 = lab.ipJson(ca, "addr", "show", "dev", "eth0").get(0);
        assertEquals(ea.mac().toString(), eth0.get("address").asText());
        assertEquals(OverlayLab.UNDERLAY_MTU - 50, eth0.get("mtu").asInt());
        assertEquals(List.of("10.101.1.2/24"), addresses(ca, "eth0"));
        assertEquals("10.101.1.1", lab.ipJson(ca, "route", "show", "default").get(0).get("gateway").asText());
    }

    @Test
    void networksWithDifferentVnisAreIsolatedEvenWithIpForwardingOn() throws IOException {
        lab = new OverlayLab(2);
        Host a = lab.host(1);
        Host b = lab.host(2);
        for (Host h : List.of(a, b)) { // the worst case: the hosts route between all their devices
            NetNs.run(h.ns(), () -> Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1"));
        }
        reconcileAll(BLUE, a, b);
        reconcileAll(GREEN, a, b);
        Path blueA = container(BLUE, a, 2);
        Path blueB = container(BLUE, b, 2);
        Path greenA = container(GREEN, a, 2);
        Path greenB = container(GREEN, b, 2);
        Endpoint blueBep = lab.endpoint(BLUE, b, 2);
        Endpoint greenAep = lab.endpoint(GREEN, a, 2);
        Endpoint greenBep = lab.endpoint(GREEN, b, 2);
        try (ServerSocket sBlueB = echoServer(blueB, blueBep.ip());
             ServerSocket sGreenA = echoServer(greenA, greenAep.ip());
             ServerSocket sGreenB = echoServer(greenB, greenBep.ip())) {
            assertTcp(blueA, blueBep.ip(), sBlueB);
            assertTcp(greenA, greenBep.ip(), sGreenB);
            // across networks: another host, the same host, and both directions
            assertFalse(tcpOnce(blueA, new InetSocketAddress(greenBep.ip(), sGreenB.getLocalPort()), 1000));
            assertFalse(tcpOnce(blueA, new InetSocketAddress(greenAep.ip(), sGreenA.getLocalPort()), 1000));
            assertFalse(tcpOnce(greenB, new InetSocketAddress(blueBep.ip(), sBlueB.getLocalPort()), 1000));
            assertFalse(tcpOnce(greenA, new InetSocketAddress(blueBep.ip(), sBlueB.getLocalPort()), 1000));
        }
        assertEquals(List.of("10.101.1.0/32"), addresses(a.ns(), "wfv101"));
        assertEquals(List.of("10.102.1.0/32"), addresses(a.ns(), "wfv102"));
    }

    @Test
    void theContainerMtuIsTheUnderlayMtuMinus50AndAFullSizeDontFragmentDatagramPasses() throws IOException {
        lab = new OverlayLab(2);
        Host a = lab.host(1);
        Host b = lab.host(2);
        reconcileAll(BLUE, a, b);
        Path ca = container(BLUE, a, 2);
        Path cb = container(BLUE, b, 2);
        int mtu = OverlayLab.UNDERLAY_MTU - 50;
        for (String dev : List.of("wfb101", "wfv101", OverlayNames.hostVeth(lab.endpoint(BLUE, a, 2)))) {
            assertEquals(mtu, lab.ipJson(a.ns(), "link", "show", "dev", dev).get(0).get("mtu").asInt(), dev);
        }
        assertEquals(mtu, lab.ipJson(ca, "link", "show", "dev", "eth0").get(0).get("mtu").asInt());
        Endpoint eb = lab.endpoint(BLUE, b, 2);
        int fd = Probes.dontFragmentSocket(ca);
        try (DatagramSocket receiver = Probes.udpReceiver(cb, eb.ip())) {
            InetSocketAddress to = new InetSocketAddress(eb.ip(), receiver.getLocalPort());
            int payload = mtu - 28; // IPv4 20 + UDP 8: the IP packet is exactly the MTU
            Poll.until(WAIT, () -> "a " + payload + "-byte DF datagram from A's container to B's", () -> {
                assertEquals(0, Probes.send(fd, to, payload));
                int got;
                while ((got = Probes.receive(receiver)) >= 0) {
                    if (got == payload) {
                        return true;
                    }
                }
                return false;
            });
            assertEquals(Probes.EMSGSIZE, Probes.send(fd, to, payload + 1), "one byte more than the MTU, DF");
        } finally {
            Probes.closeFd(fd);
        }
        // a network with an MTU of its own keeps it
        Network small = new Network("small", "small-id", IpPrefix.parse("10.103.0.0/16"), 24, 103, 1280);
        a.dataPlane().reconcile(small, new HostLease("small", a.name(), IpPrefix.parse("10.103.1.0/24"),
                a.underlay(), HostLease.vtepMac(a.name(), "small-id")), List.of(), UNDERLAY);
        assertEquals(1280, lab.ipJson(a.ns(), "link", "show", "dev", "wfv103").get(0).get("mtu").asInt());
        assertEquals(1280, lab.ipJson(a.ns(), "link", "show", "dev", "wfb103").get(0).get("mtu").asInt());
    }

    @Test
    void aRemovedLeaseLosesItsRouteNeighbourAndFdbEntryAndItsTraffic() throws IOException {
        lab = new OverlayLab(3);
        Host a = lab.host(1);
        Host b = lab.host(2);
        Host c = lab.host(3);
        reconcileAll(BLUE, a, b, c);
        Path ca = container(BLUE, a, 2);
        Path cb = container(BLUE, b, 2);
        Path cc = container(BLUE, c, 2);
        Endpoint eb = lab.endpoint(BLUE, b, 2);
        Endpoint ec = lab.endpoint(BLUE, c, 2);
        try (ServerSocket sb = echoServer(cb, eb.ip()); ServerSocket sc = echoServer(cc, ec.ip())) {
            assertTcp(ca, eb.ip(), sb);
            assertTcp(ca, ec.ip(), sc);
            assertEquals(2, lab.fdbJson(a.ns(), "wfv101").size());

            Reconciliation r = a.dataPlane().reconcile(BLUE, a.lease(BLUE), List.of(a.lease(BLUE), b.lease(BLUE)),
                    UNDERLAY);
            assertEquals(List.of("route del 10.101.3.0/24 via 10.101.3.0 dev wfv101 onlink",
                            "fdb del " + c.lease(BLUE).vtepMac() + " dev wfv101 dst 192.168.213.3 self",
                            "neigh del 10.101.3.0 dev wfv101 lladdr " + c.lease(BLUE).vtepMac() + " PERMANENT"),
                    r.changes().stream().map(Object::toString).toList());
            assertEquals(List.of("10.101.2.0/24"), routeDestinations(a.ns(), "wfv101"));
            JsonNode neigh = lab.ipJson(a.ns(), "neigh", "show", "dev", "wfv101");
            assertEquals(1, neigh.size(), neigh.toString());
            assertEquals("10.101.2.0", neigh.get(0).get("dst").asText());
            JsonNode fdb = lab.fdbJson(a.ns(), "wfv101");
            assertEquals(1, fdb.size(), fdb.toString());
            assertEquals("192.168.213.2", fdb.get(0).get("dst").asText());
            assertFalse(tcpOnce(ca, new InetSocketAddress(ec.ip(), sc.getLocalPort()), 1000));
            assertTcp(ca, eb.ip(), sb);
        }
    }

    @Test
    void aChangedVtepMacReplacesTheEntries() throws IOException {
        lab = new OverlayLab(2);
        Host a = lab.host(1);
        Host b = lab.host(2);
        reconcileAll(BLUE, a, b);
        Path ca = container(BLUE, a, 2);
        Path cb = container(BLUE, b, 2);
        Endpoint eb = lab.endpoint(BLUE, b, 2);
        MacAddress newMac = MacAddress.parse("0a:00:00:00:bb:02");
        HostLease bNew = new HostLease("blue", b.name(), b.lease(BLUE).subnet(), b.underlay(), newMac);
        try (ServerSocket sb = echoServer(cb, eb.ip())) {
            assertTcp(ca, eb.ip(), sb);
            List<HostLease> leases = List.of(a.lease(BLUE), bNew);
            Reconciliation onA = a.dataPlane().reconcile(BLUE, a.lease(BLUE), leases, UNDERLAY);
            assertEquals(List.of("fdb del " + b.lease(BLUE).vtepMac() + " dev wfv101 dst 192.168.213.2 self",
                            "neigh replace 10.101.2.0 dev wfv101 lladdr " + newMac + " PERMANENT",
                            "fdb replace " + newMac + " dev wfv101 dst 192.168.213.2 self"),
                    onA.changes().stream().map(Object::toString).toList());
            Reconciliation onB = b.dataPlane().reconcile(BLUE, bNew, leases, UNDERLAY);
            assertEquals(List.of("link set wfv101 address " + newMac,
                    "neigh replace 10.101.1.0 dev wfv101 lladdr " + a.lease(BLUE).vtepMac() + " PERMANENT"),
                    onB.changes().stream().map(Object::toString).toList(), "the kernel flushed B's neighbours");
            JsonNode fdb = lab.fdbJson(a.ns(), "wfv101");
            assertEquals(1, fdb.size(), fdb.toString());
            assertEquals(newMac.toString(), fdb.get(0).get("mac").asText());
            assertEquals(newMac.toString(), lab.ipJson(a.ns(), "neigh", "show", "dev", "wfv101").get(0)
                    .get("lladdr").asText());
            assertTcp(ca, eb.ip(), sb);
        }
    }

    @Test
    void removeDeletesTheDevicesAndRulesAndDetachTheVeth() {
        lab = new OverlayLab(2);
        Host a = lab.host(1);
        Host b = lab.host(2);
        reconcileAll(BLUE, a, b);
        reconcileAll(GREEN, a, b);
        Path ca = container(BLUE, a, 2);
        Endpoint ea = lab.endpoint(BLUE, a, 2);
        String hostEnd = OverlayNames.hostVeth(ea);
        assertEquals(1, lab.ipJson(a.ns(), "link", "show", "dev", hostEnd).size());
        assertTrue(a.dataPlane().detach(ea));
        assertFalse(a.dataPlane().detach(ea));
        assertEquals(Set.of("lo"), linkNames(ca), "the container end went with the pair");
        assertEquals(8, ourRules(a.ns()), "4 rules per network");

        Reconciliation r = a.dataPlane().remove(BLUE);
        assertFalse(r.unchanged());
        Set<String> left = linkNames(a.ns());
        assertFalse(left.contains("wfb101") || left.contains("wfv101"), left.toString());
        assertTrue(left.contains("wfb102") && left.contains("wfv102"), left.toString());
        assertEquals(4, ourRules(a.ns()), "only GREEN's rules are left");
        assertTrue(a.dataPlane().remove(BLUE).unchanged());
    }

    @Test
    void aRestartedAgentChangesNothingAndAnOpenConnectionSurvives() throws IOException {
        lab = new OverlayLab(2);
        Host a = lab.host(1);
        Host b = lab.host(2);
        reconcileAll(BLUE, a, b);
        Path ca = container(BLUE, a, 2);
        Path cb = container(BLUE, b, 2);
        Endpoint eb = lab.endpoint(BLUE, b, 2);
        try (ServerSocket sb = echoServer(cb, eb.ip())) {
            assertTcp(ca, eb.ip(), sb);
            try (Probes.Connection open = Probes.connect(ca, new InetSocketAddress(eb.ip(), sb.getLocalPort()), 3000)) {
                assertTrue(open.roundTrip("before"));
                List<HostLease> leases = List.of(a.lease(BLUE), b.lease(BLUE));
                for (Host h : List.of(a, b)) {
                    // a new agent: new netlink socket, new data plane, same leases
                    try (NetlinkClient fresh = NetlinkClient.openIn(h.ns())) {
                        DataPlane restarted = new DataPlane(fresh, h.ns());
                        Reconciliation r = restarted.reconcile(BLUE, h.lease(BLUE), leases, UNDERLAY);
                        assertTrue(r.unchanged(), r.toString());
                        // and attach again is an ensure: nothing to do, nothing broken
                        restarted.attach(BLUE, h.lease(BLUE), lab.endpoint(BLUE, h, 2), h == a ? ca : cb, "eth0");
                    }
                }
                assertTrue(open.roundTrip("after"));
            }
        }
    }

    private List<String> addresses(Path ns, String device) {
        List<String> out = new ArrayList<>();
        for (JsonNode a : lab.ipJson(ns, "-4", "addr", "show", "dev", device).get(0).get("addr_info")) {
            out.add(a.get("local").asText() + "/" + a.get("prefixlen").asInt());
        }
        return out;
    }

    private List<String> routeDestinations(Path ns, String device) {
        List<String> out = new ArrayList<>();
        for (JsonNode r : lab.ipJson(ns, "route", "show", "dev", device)) {
            out.add(r.get("dst").asText());
        }
        return out;
    }

    private Set<String> linkNames(Path ns) {
        Set<String> out = new java.util.TreeSet<>();
        for (JsonNode l : lab.ipJson(ns, "link", "show")) {
            out.add(l.get("ifname").asText());
        }
        return out;
    }

    private int ourRules(Path ns) {
        int n = 0;
        for (JsonNode r : lab.ipJson(ns, "rule", "show")) {
            int pref = r.get("priority").asInt();
            if (pref == OverlayPlanner.RULE_LOOKUP_PRIORITY || pref == OverlayPlanner.RULE_UNREACHABLE_PRIORITY) {
                n++;
            }
        }
        return n;
    }
}
