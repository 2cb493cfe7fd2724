package dev.weft.net.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** Links in a namespace of the test's own: veth, bridge, vxlan, attributes, namespaces, errors. */
class LinkTest {
    private TestNamespace ns;
    private NetlinkClient nl;

    @BeforeEach
    void createNamespace() {
        ns = TestNamespace.create();
        nl = NetlinkClient.openIn(ns.path());
    }

    @AfterEach
    void removeNamespace() {
        if (nl != null) {
            nl.close();
        }
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void vethPairIsCreatedReadAndDeletedWithBothEnds() {
        nl.createVethPair("wfta0", "wftb0");
        Link a = nl.link("wfta0").orElseThrow();
        Link b = nl.link("wftb0").orElseThrow();
        assertEquals("veth", a.kind());
        assertEquals("veth", b.kind());
        assertNotEquals(a.index(), b.index());
        assertEquals(a, nl.link(a.index()).orElseThrow());
        assertFalse(a.up());
        assertEquals(1500, a.mtu());
        assertEquals(0, a.masterIndex());
        assertEquals(a.mac().toString(), ns.ipJson("link", "show", "dev", "wfta0").get(0).get("address").asText());

        nl.deleteLink("wfta0");
        assertTrue(nl.link("wfta0").isEmpty());
        assertTrue(nl.link("wftb0").isEmpty(), "deleting one end deletes the pair");
    }

    @Test
    void bridgeAndMaster() {
        nl.createBridge("wftbr0");
        nl.createVethPair("wfta0", "wftb0");
        nl.setMaster("wfta0", "wftbr0");
        Link bridge = nl.link("wftbr0").orElseThrow();
        assertEquals("bridge", bridge.kind());
        assertEquals(bridge.index(), nl.link("wfta0").orElseThrow().masterIndex());
        assertEquals("wftbr0", ns.ipJson("link", "show", "dev", "wfta0").get(0).get("master").asText());

        nl.setNoMaster("wfta0");
        assertEquals(0, nl.link("wfta0").orElseThrow().masterIndex());
    }

    @Test
    void vxlanWithIdPortLocalAndLearningOff() {
        nl.createVethPair("wftu0", "wftu1");
        int underlay = nl.link("wftu0").orElseThrow().index();
        Inet4Address local = (Inet4Address) IpPrefix.literal("10.213.0.1");
        VxlanSpec spec = VxlanSpec.of("wftv0", 42, VxlanSpec.IANA_PORT, local).withUnderlay(underlay);
        nl.createVxlan(spec);

        Link vx = nl.link("wftv0").orElseThrow();
        assertEquals("vxlan", vx.kind());
        assertEquals(spec, vx.vxlan(), "read back equal to what was created");

        JsonNode info = ns.ipJson("-d", "link", "show", "dev", "wftv0").get(0).get("linkinfo");
        assertEquals("vxlan", info.get("info_kind").asText());
        JsonNode data = info.get("info_data");
        assertEquals(42, data.get("id").asInt());
        assertEquals(4789, data.get("port").asInt());
        assertEquals("10.213.0.1", data.get("local").asText());
        assertFalse(data.get("learning").asBoolean(true));
        assertEquals("wftu0", data.get("link").asText());

        VxlanSpec custom = VxlanSpec.of("wftv1", 7, 4790, local).withLearning(true);
        nl.createVxlan(custom);
        assertEquals(custom, nl.link("wftv1").orElseThrow().vxlan());
        JsonNode customData = ns.ipJson("-d", "link", "show", "dev", "wftv1").get(0).get("linkinfo").get("info_data");
        assertEquals(4790, customData.get("port").asInt());
        assertTrue(customData.get("learning").asBoolean(false));
    }

    @Test
    void upDownMtuMacAndRename() {
        nl.createVethPair("wfta0", "wftb0");
        nl.setUp("wfta0");
        assertTrue(nl.link("wfta0").orElseThrow().up());
        assertTrue(ns.ipJson("link", "show", "dev", "wfta0").get(0).get("flags").toString().contains("\"UP\""));
        nl.setDown("wfta0");
        assertFalse(nl.link("wfta0").orElseThrow().up());

        nl.setMtu("wfta0", 1400);
        assertEquals(1400, nl.link("wfta0").orElseThrow().mtu());
        assertEquals(1400, ns.ipJson("link", "show", "dev", "wfta0").get(0).get("mtu").asInt());

        MacAddress mac = MacAddress.parse("02:00:5e:10:00:01");
        nl.setMac("wfta0", mac);
        assertEquals(mac, nl.link("wfta0").orElseThrow().mac());
        assertEquals("02:00:5e:10:00:01", ns.ipJson("link", "show", "dev", "wfta0").get(0).get("address").asText());

        int index = nl.link("wfta0").orElseThrow().index();
        nl.rename("wfta0", "wftrenamed");
        assertTrue(nl.link("wfta0").isEmpty());
        assertEquals(index, nl.link("wftrenamed").orElseThrow().index());
    }

    @Test
    void dumpListsEverythingCreatedAndOnlyThisNamespace() {
        nl.createVethPair("wfta0", "wftb0");
        nl.createBridge("wftbr0");
        nl.createVxlan(VxlanSpec.of("wftv0", 9, 4789, (Inet4Address) IpPrefix.literal("10.213.0.1")));
        List<Link> links = nl.links();
        Set<String> names = links.stream().map(Link::name).collect(Collectors.toSet());
        assertTrue(names.containsAll(Set.of("lo", "wfta0", "wftb0", "wftbr0", "wftv0")), names.toString());
        Set<String> byIp = new HashSet<>();
        ns.ipJson("link", "show").forEach(l -> byIp.add(l.get("ifname").asText()));
        assertEquals(byIp, names, "the same devices as `ip link show` (new namespaces may also hold tunl0, sit0, …)");
        Link vx = links.stream().filter(l -> l.name().equals("wftv0")).findFirst().orElseThrow();
        assertEquals(9, vx.vxlan().vni());
        // the namespace is isolated: none of this exists in the host's
        String ip = TestNamespace.requireRootAndIp();
        assertThrows(AssertionError.class, () -> TestNamespace.run(ip, "link", "show", "dev", "wftbr0"));
    }

    @Test
    void duplicateCreateIsEexistNamingOperationAndObject() {
        nl.createBridge("wftbr0");
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.createBridge("wftbr0"));
        assertTrue(e.isExists());
        assertEquals(17, e.errno());
        assertTrue(e.getMessage().startsWith("create bridge wftbr0: File exists (EEXIST)"), e.getMessage());

        nl.createVxlan(VxlanSpec.of("wftv0", 1, 4789, null));
        e = assertThrows(NetlinkException.class, () -> nl.createVxlan(VxlanSpec.of("wftv0", 1, 4789, null)));
        assertTrue(e.getMessage().startsWith("create vxlan wftv0: File exists (EEXIST)"), e.getMessage());
    }

    @Test
    void missingLinksAreNotFoundNamingOperationAndObject() {
        NetlinkException e = assertThrows(NetlinkException.class, () -> nl.deleteLink("wftnope"));
        assertTrue(e.isNotFound());
        assertEquals(Errno.ENODEV, e.error(), "the kernel's answer for a missing device");
        assertTrue(e.getMessage().startsWith("delete link wftnope: No such device (ENODEV)"), e.getMessage());

        e = assertThrows(NetlinkException.class, () -> nl.setMtu("wftnope", 1400));
        assertTrue(e.getMessage().startsWith("set mtu of wftnope to 1400: No such device (ENODEV)"), e.getMessage());
        e = assertThrows(NetlinkException.class, () -> nl.setMaster("wftnope", "lo"));
        assertTrue(e.getMessage().startsWith("set master of wftnope to lo: "), e.getMessage());
        assertTrue(nl.link("wftnope").isEmpty());
    }

    @Test
    void kernelRefusalsAreClearToo() {
        nl.createVethPair("wfta0", "wftb0");
        NetlinkException taken = assertThrows(NetlinkException.class, () -> nl.rename("wfta0", "wftb0"));
        assertTrue(taken.isExists());
        assertTrue(taken.getMessage().startsWith("rename wfta0 to wftb0: File exists (EEXIST)"), taken.getMessage());
        NetlinkException notAMaster = assertThrows(NetlinkException.class, () -> nl.setMaster("wfta0", "wftb0"));
        assertEquals(Errno.EOPNOTSUPP, notAMaster.error(), notAMaster.getMessage());
        assertTrue(notAMaster.getMessage().startsWith("set master of wfta0 to wftb0: Operation not supported"),
                notAMaster.getMessage());
        NetlinkException invalid = assertThrows(NetlinkException.class, () -> nl.setMtu("wfta0", 10));
        assertEquals(Errno.EINVAL, invalid.error());
        assertTrue(invalid.getMessage().startsWith("set mtu of wfta0 to 10: Invalid argument (EINVAL)"),
                invalid.getMessage());
        System.out.println("kernel refusals: " + taken.getMessage() + " | " + notAMaster.getMessage() + " | "
                + invalid.getMessage());
        assertThrows(IllegalArgumentException.class, () -> nl.createBridge("a-name-much-too-long"));
    }

    @Test
    void vethEndMovesIntoAnotherNamespace() {
        try (TestNamespace other = TestNamespace.create(); NetlinkClient there = NetlinkClient.openIn(other.path())) {
            nl.createVethPair("wfta0", "wftb0");
            nl.moveToNamespace("wftb0", other.path());
            assertTrue(nl.link("wftb0").isEmpty());
            Link moved = there.link("wftb0").orElseThrow();
            assertEquals("veth", moved.kind());
            assertEquals("wftb0", other.ipJson("link", "show", "dev", "wftb0").get(0).get("ifname").asText());

            NetlinkException e = assertThrows(NetlinkException.class,
                    () -> nl.moveToNamespace("wfta0", Path.of("/var/run/netns/wftnl-none")));
            assertEquals(Errno.ENOENT, e.error());
            assertTrue(e.getMessage().startsWith("move wfta0 to netns /var/run/netns/wftnl-none: No such file"),
                    e.getMessage());
        }
    }

    @Test
    void vethPeerIsBornInAnotherNamespaceWithTheMtu() {
        try (TestNamespace other = TestNamespace.create(); NetlinkClient there = NetlinkClient.openIn(other.path())) {
            nl.createVethPair("wfta0", "wftb0", other.path(), 1400);
            assertTrue(nl.link("wftb0").isEmpty(), "the peer is not created here");
            Link here = nl.link("wfta0").orElseThrow();
            Link peer = there.link("wftb0").orElseThrow();
            assertEquals("veth", peer.kind());
            assertEquals(1400, here.mtu());
            assertEquals(1400, peer.mtu());
            assertEquals(1400, other.ipJson("link", "show", "dev", "wftb0").get(0).get("mtu").asInt());
            NetlinkException e = assertThrows(NetlinkException.class,
                    () -> nl.createVethPair("wftc0", "wftd0", Path.of("/var/run/netns/wftnl-none"), 0));
            assertEquals(Errno.ENOENT, e.error());
            assertTrue(nl.link("wftc0").isEmpty());
        }
    }
}
