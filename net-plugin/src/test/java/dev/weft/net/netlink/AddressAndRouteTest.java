package dev.weft.net.netlink;

import static dev.weft.net.netlink.IpPrefix.literal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** Addresses and main-table routes in a namespace of the test's own. */
class AddressAndRouteTest {
    private TestNamespace ns;
    private NetlinkClient nl;

    @BeforeEach
    void createNamespaceWithAVethPair() {
        ns = TestNamespace.create();
        nl = NetlinkClient.openIn(ns.path());
        nl.createVethPair("wfta0", "wftb0");
        nl.setUp("wfta0");
        nl.setUp("wftb0");
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

    private List<String> ipAddresses(String dev, String family) {
        List<String> out = new ArrayList<>();
        for (JsonNode a : ns.ipJson(family, "addr", "show", "dev", dev).get(0).get("addr_info")) {
            out.add(a.get("local").asText() + "/" + a.get("prefixlen").asInt());
        }
        return out;
    }

    @Test
    void addressesAreAddedListedAndDeleted() {
        nl.addAddress("wfta0", literal("10.213.0.1"), 24);
        nl.addAddress("wfta0", literal("10.213.5.1"), 32);
        nl.addAddress("wfta0", literal("fd00:213::1"), 64);

        List<LinkAddress> listed = nl.addresses("wfta0");
        assertTrue(listed.contains(new LinkAddress("wfta0", literal("10.213.0.1"), 24)), listed.toString());
        assertTrue(listed.contains(new LinkAddress("wfta0", literal("10.213.5.1"), 32)), listed.toString());
        assertTrue(listed.contains(new LinkAddress("wfta0", literal("fd00:213::1"), 64)), listed.toString());
        assertEquals(List.of("10.213.0.1/24", "10.213.5.1/32"), ipAddresses("wfta0", "-4"));
        assertTrue(ipAddresses("wfta0", "-6").contains("fd00:213::1/64"));
        assertTrue(nl.addresses("wftb0").stream().noneMatch(a -> a.address().equals(literal("10.213.0.1"))));

        NetlinkException dup = assertThrows(NetlinkException.class,
                () -> nl.addAddress("wfta0", literal("10.213.0.1"), 24));
        assertTrue(dup.isExists());
        assertTrue(dup.getMessage().startsWith("add address 10.213.0.1/24 to wfta0: File exists (EEXIST)"),
                dup.getMessage());

        nl.deleteAddress("wfta0", literal("10.213.5.1"), 32);
        assertEquals(List.of("10.213.0.1/24"), ipAddresses("wfta0", "-4"));
        NetlinkException missing = assertThrows(NetlinkException.class,
                () -> nl.deleteAddress("wfta0", literal("10.213.5.1"), 32));
        assertTrue(missing.isNotFound());
        assertTrue(missing.getMessage().startsWith("delete address 10.213.5.1/32 from wfta0: "), missing.getMessage());
    }

    @Test
    void routesViaAndOnlinkAreReplacedListedAndDeleted() {
        nl.addAddress("wfta0", literal("10.213.0.1"), 24);
        Route via = Route.via(IpPrefix.parse("10.99.0.0/24"), literal("10.213.0.2"), "wfta0");
        Route onlink = Route.onlink(IpPrefix.parse("10.98.0.0/24"), literal("192.168.213.2"), "wfta0");
        Route direct = Route.direct(IpPrefix.parse("10.97.0.0/16"), "wftb0");
        nl.replaceRoute(via);
        nl.replaceRoute(onlink);
        nl.replaceRoute(direct);

        List<Route> routes = nl.routes();
        assertTrue(routes.contains(via), routes.toString());
        assertTrue(routes.contains(onlink), routes.toString());
        assertTrue(routes.contains(direct), routes.toString());
        assertTrue(routes.contains(Route.direct(IpPrefix.parse("10.213.0.0/24"), "wfta0")), "the connected route");

        JsonNode shown = ns.ipJson("route", "show", "10.98.0.0/24").get(0);
        assertEquals("192.168.213.2", shown.get("gateway").asText());
        assertEquals("wfta0", shown.get("dev").asText());
        assertTrue(shown.get("flags").toString().contains("onlink"), shown.toString());
        assertEquals("10.213.0.2", ns.ipJson("route", "show", "10.99.0.0/24").get(0).get("gateway").asText());

        // without onlink, a gateway outside every connected subnet is refused
        NetlinkException unreachable = assertThrows(NetlinkException.class, () -> nl.replaceRoute(
                Route.via(IpPrefix.parse("10.96.0.0/24"), literal("192.168.213.2"), "wfta0")));
        assertTrue(unreachable.getMessage().startsWith("replace route 10.96.0.0/24 via 192.168.213.2 dev wfta0: "),
                unreachable.getMessage());

        // replace: the same destination gets a new gateway, still one route
        Route moved = Route.via(IpPrefix.parse("10.99.0.0/24"), literal("10.213.0.3"), "wfta0");
        nl.replaceRoute(moved);
        List<Route> after = nl.routes().stream().filter(r -> r.destination().equals(moved.destination())).toList();
        assertEquals(List.of(moved), after);

        nl.deleteRoute(moved);
        nl.deleteRoute(onlink);
        routes = nl.routes();
        assertFalse(routes.contains(moved));
        assertFalse(routes.contains(onlink));
        assertTrue(ns.ip("route", "show", "10.98.0.0/24").isBlank());
        NetlinkException missing = assertThrows(NetlinkException.class, () -> nl.deleteRoute(onlink));
        assertTrue(missing.isNotFound(), missing.getMessage());
        assertTrue(missing.getMessage().startsWith("delete route 10.98.0.0/24 via 192.168.213.2 dev wfta0 onlink: "),
                missing.getMessage());
    }

    @Test
    void ipv6Routes() {
        nl.addAddress("wfta0", literal("fd00:213::1"), 64);
        Route r = Route.via(IpPrefix.parse("fd00:99::/64"), literal("fd00:213::2"), "wfta0");
        nl.replaceRoute(r);
        assertTrue(nl.routes().contains(r), nl.routes().toString());
        assertEquals("fd00:213::2", ns.ipJson("-6", "route", "show", "fd00:99::/64").get(0).get("gateway").asText());
        nl.deleteRoute(r);
        assertFalse(nl.routes().contains(r));
    }
}
