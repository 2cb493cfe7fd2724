package dev.weft.net.dataplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.FdbEntry;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.Link;
import dev.weft.net.netlink.LinkAddress;
import dev.weft.net.netlink.MacAddress;
import dev.weft.net.netlink.Neighbour;
import dev.weft.net.netlink.Route;
import dev.weft.net.netlink.Rule;
import dev.weft.net.netlink.VxlanSpec;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.List;
import java.util.Set;

/** Golden plans: what the planner does for a new host, an unchanged one, a dead peer and a wrong device. */
class OverlayPlannerTest {
    private static final Network NET = new Network("blue", "blue-id", IpPrefix.parse("10.42.0.0/16"), 24, 42, 0);
    private static final MacAddress MAC_A = MacAddress.parse("0a:00:00:00:00:0a");
    private static final MacAddress MAC_B = MacAddress.parse("0a:00:00:00:00:0b");
    private static final MacAddress MAC_C = MacAddress.parse("0a:00:00:00:00:0c");
    private static final HostLease A = lease("a", "10.42.1.0/24", "192.0.2.1", MAC_A);
    private static final HostLease B = lease("b", "10.42.2.0/24", "192.0.2.2", MAC_B);
    private static final HostLease C = lease("c", "10.42.3.0/24", "192.0.2.3", MAC_C);

    private static HostLease lease(String host, String subnet, String underlay, MacAddress mac) {
        return new HostLease("blue", host, IpPrefix.parse(subnet), (Inet4Address) IpPrefix.literal(underlay), mac);
    }

    private static OverlayPlanner.Desired desired(HostLease... remotes) {
        return OverlayPlanner.desired(NET, A, List.of(remotes), 2, 1500, 4789);
    }

    private static List<String> plan(OverlayPlanner.Desired d, OverlayPlanner.Observed o) {
        return OverlayPlanner.plan(d, o).stream().map(Object::toString).toList();
    }

    /** What the kernel holds once {@code d} has been applied. */
    private static OverlayPlanner.Observed applied(OverlayPlanner.Desired d) {
        Link bridge = new Link(10, "wfb42", "bridge", d.mtu(), d.bridgeMac(), true, 0, null);
        Link vxlan = new Link(11, "wfv42", "vxlan", d.mtu(), d.vtepMac(), true, 0, d.vxlan());
        return new OverlayPlanner.Observed(bridge, List.of(d.gateway()), vxlan, List.of(d.vtepAddress()), d.rules(),
                d.neighbours(), d.fdb(), d.routes(), Set.of("wfb42", "wfv42"));
    }

    @Test
    void aNewHostGetsDevicesThenRulesThenNeighbourFdbAndRoutePerPeer() {
        OverlayPlanner.Desired d = desired(A, C, B); // its own lease is skipped, peers sorted by host
        MacAddress bridgeMac = OverlayPlanner.bridgeMac("a", "blue-id");
        assertEquals(List.of(
                "link add wfb42 type bridge",
                "link set wfb42 address " + bridgeMac,
                "link set wfb42 mtu 1450",
                "addr add 10.42.1.1/24 dev wfb42",
                "link set wfb42 up",
                "link add wfv42 type vxlan id 42 dstport 4789 local 192.0.2.1 dev #2 nolearning",
                "link set wfv42 address 0a:00:00:00:00:0a",
                "link set wfv42 mtu 1450",
                "addr add 10.42.1.0/32 dev wfv42",
                "link set wfv42 up",
                "sysctl net.ipv4.conf.wfb42.forwarding=1",
                "sysctl net.ipv4.conf.wfv42.forwarding=1",
                "rule add pref 32100 iif wfb42 to 10.42.0.0/16 lookup main",
                "rule add pref 32100 iif wfv42 to 10.42.0.0/16 lookup main",
                "rule add pref 32101 iif wfb42 unreachable",
                "rule add pref 32101 iif wfv42 unreachable",
                "neigh replace 10.42.2.0 dev wfv42 lladdr 0a:00:00:00:00:0b PERMANENT",
                "fdb replace 0a:00:00:00:00:0b dev wfv42 dst 192.0.2.2 self",
                "route replace 10.42.2.0/24 via 10.42.2.0 dev wfv42 onlink",
                "neigh replace 10.42.3.0 dev wfv42 lladdr 0a:00:00:00:00:0c PERMANENT",
                "fdb replace 0a:00:00:00:00:0c dev wfv42 dst 192.0.2.3 self",
                "route replace 10.42.3.0/24 via 10.42.3.0 dev wfv42 onlink"),
                plan(d, OverlayPlanner.Observed.nothing()));
    }

    @Test
    void whatIsAlreadyRightIsLeftAlone() {
        OverlayPlanner.Desired d = desired(B, C);
        assertEquals(List.of(), plan(d, applied(d)));
    }

    @Test
    void aDeadPeerIsRemovedRouteFirstAndAMovedPeerIsReplaced() {
        OverlayPlanner.Desired before = desired(B, C);
        HostLease movedB = lease("b", "10.42.2.0/24", "192.0.2.22", MAC_B);
        assertEquals(List.of(
                "route del 10.42.3.0/24 via 10.42.3.0 dev wfv42 onlink",
                "fdb del 0a:00:00:00:00:0c dev wfv42 dst 192.0.2.3 self",
                "neigh del 10.42.3.0 dev wfv42 lladdr 0a:00:00:00:00:0c PERMANENT",
                "fdb replace 0a:00:00:00:00:0b dev wfv42 dst 192.0.2.22 self"),
                plan(desired(movedB), applied(before)));
    }

    @Test
    void wrongMtuAddressAndStrayRulesAreFixedWithoutRecreatingDevices() {
        OverlayPlanner.Desired d = desired(B);
        OverlayPlanner.Observed o = applied(d);
        Link smallBridge = new Link(10, "wfb42", "bridge", 1400, d.bridgeMac(), true, 0, null);
        LinkAddress old = new LinkAddress("wfb42", IpPrefix.literal("10.42.9.1"), 24);
        Rule stray = Rule.lookup(OverlayPlanner.RULE_LOOKUP_PRIORITY, "wfb42", IpPrefix.parse("10.99.0.0/16"),
                Rule.MAIN_TABLE);
        List<Rule> rules = new java.util.ArrayList<>(d.rules());
        rules.add(stray);
        OverlayPlanner.Observed drifted = new OverlayPlanner.Observed(smallBridge, List.of(old), o.vxlan(),
                o.vxlanAddresses(), rules, o.neighbours(), o.fdb(), o.routes(), Set.of("wfv42"));
        assertEquals(List.of(
                "link set wfb42 mtu 1450",
                "addr del 10.42.9.1/24 dev wfb42",
                "addr add 10.42.1.1/24 dev wfb42",
                "sysctl net.ipv4.conf.wfb42.forwarding=1",
                "rule del pref 32100 iif wfb42 to 10.99.0.0/16 lookup main"),
                plan(d, drifted));
    }

    @Test
    void aVxlanDeviceWithOtherParametersIsRecreatedWithItsEntries() {
        OverlayPlanner.Desired d = desired(B);
        OverlayPlanner.Observed o = applied(d);
        VxlanSpec otherPort = new VxlanSpec("wfv42", 42, 8472, A.underlay(), 2, false);
        Link vxlan = new Link(11, "wfv42", "vxlan", d.mtu(), d.vtepMac(), true, 0, otherPort);
        OverlayPlanner.Observed wrong = new OverlayPlanner.Observed(o.bridge(), o.bridgeAddresses(), vxlan,
                o.vxlanAddresses(), o.rules(), List.of(new Neighbour("wfv42", IpPrefix.literal("10.42.2.0"), MAC_B,
                true)), List.of(new FdbEntry("wfv42", MAC_B, B.underlay())),
                List.of(Route.onlink(B.subnet(), B.subnet().address(), "wfv42")), o.forwarding());
        assertEquals(List.of(
                "link del wfv42",
                "link add wfv42 type vxlan id 42 dstport 4789 local 192.0.2.1 dev #2 nolearning",
                "link set wfv42 address 0a:00:00:00:00:0a",
                "link set wfv42 mtu 1450",
                "addr add 10.42.1.0/32 dev wfv42",
                "link set wfv42 up",
                "sysctl net.ipv4.conf.wfv42.forwarding=1",
                "neigh replace 10.42.2.0 dev wfv42 lladdr 0a:00:00:00:00:0b PERMANENT",
                "fdb replace 0a:00:00:00:00:0b dev wfv42 dst 192.0.2.2 self",
                "route replace 10.42.2.0/24 via 10.42.2.0 dev wfv42 onlink"),
                plan(d, wrong));
    }

    @Test
    void aNewVtepMacIsFollowedByTheNeighboursTheKernelFlushedWithTheOldOne() {
        OverlayPlanner.Desired d = desired(B);
        OverlayPlanner.Observed o = applied(d);
        Link oldMac = new Link(11, "wfv42", "vxlan", d.mtu(), MAC_C, true, 0, d.vxlan());
        OverlayPlanner.Observed before = new OverlayPlanner.Observed(o.bridge(), o.bridgeAddresses(), oldMac,
                o.vxlanAddresses(), o.rules(), o.neighbours(), o.fdb(), o.routes(), o.forwarding());
        assertEquals(List.of(
                "link set wfv42 address 0a:00:00:00:00:0a",
                "neigh replace 10.42.2.0 dev wfv42 lladdr 0a:00:00:00:00:0b PERMANENT"),
                plan(d, before));
    }

    @Test
    void namesFitLinuxLimits() {
        Network biggest = new Network("n", "id", IpPrefix.parse("10.0.0.0/8"), 24, 0xFFFFFF, 0);
        assertEquals("wfb16777215", OverlayNames.bridge(biggest));
        assertEquals("wfv16777215", OverlayNames.vxlan(biggest));
        String veth = OverlayNames.hostVeth(new dev.weft.net.model.Endpoint("n", "endpoint-1", "c", "h",
                (Inet4Address) IpPrefix.literal("10.0.0.2"), MAC_A));
        assertEquals(11, veth.length());
        assertEquals("10.42.1.1", OverlayPlanner.gateway(A.subnet()).getHostAddress());
        HostLease otherNetwork = new HostLease("red", "x", IpPrefix.parse("10.42.5.0/24"), A.underlay(), MAC_C);
        assertThrows(IllegalArgumentException.class,
                () -> OverlayPlanner.desired(NET, A, List.of(otherNetwork), 2, 1500, 4789));
    }
}
