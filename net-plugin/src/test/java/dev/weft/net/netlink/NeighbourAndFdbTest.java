package dev.weft.net.netlink;

import static dev.weft.net.netlink.IpPrefix.literal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;

/** Permanent neighbours and a VXLAN device's FDB, in a namespace of the test's own. */
class NeighbourAndFdbTest {
    private static final MacAddress PEER = MacAddress.parse("02:00:5e:10:00:02");
    private static final MacAddress OTHER = MacAddress.parse("02:00:5e:10:00:03");

    private TestNamespace ns;
    private NetlinkClient nl;

    @BeforeEach
    void createNamespaceWithAVxlan() {
        ns = TestNamespace.create();
        nl = NetlinkClient.openIn(ns.path());
        nl.createVxlan(VxlanSpec.of("wftv0", 42, 4789, (Inet4Address) literal("10.213.1.1")));
        nl.setUp("wftv0");
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
    void permanentNeighbourIsReplacedListedAndDeleted() {
        nl.replaceNeighbour("wftv0", literal("10.214.0.2"), OTHER, true);
        nl.replaceNeighbour("wftv0", literal("10.214.0.2"), PEER, true); // replace: a new MAC, no EEXIST
        nl.replaceNeighbour("wftv0", literal("fd00:214::2"), PEER, true);

        List<Neighbour> listed = nl.neighbours("wftv0");
        assertTrue(listed.contains(new Neighbour("wftv0", literal("10.214.0.2"), PEER, true)), listed.toString());
        assertTrue(listed.contains(new Neighbour("wftv0", literal("fd00:214::2"), PEER, true)), listed.toString());
        JsonNode shown = ns.ipJson("neigh", "show", "dev", "wftv0", "10.214.0.2").get(0);
        assertEquals(PEER.toString(), shown.get("lladdr").asText());
        assertTrue(shown.get("state").toString().contains("PERMANENT"), shown.toString());

        nl.deleteNeighbour("wftv0", literal("10.214.0.2"));
        assertFalse(nl.neighbours("wftv0").stream().anyMatch(n -> n.address().equals(literal("10.214.0.2"))));
        assertTrue(ns.ip("neigh", "show", "dev", "wftv0", "10.214.0.2").isBlank());
        NetlinkException missing = assertThrows(NetlinkException.class,
                () -> nl.deleteNeighbour("wftv0", literal("10.214.0.2")));
        assertTrue(missing.isNotFound(), missing.getMessage());
        assertTrue(missing.getMessage().startsWith("delete neighbour 10.214.0.2 dev wftv0: "), missing.getMessage());
    }

    private List<String> bridgeFdb() {
        List<String> out = new ArrayList<>();
        String bridge = Requires.command("bridge");
        for (JsonNode e : TestNamespace.parse(ns.exec(bridge, "-j", "fdb", "show", "dev", "wftv0"))) {
            out.add(e.get("mac").asText() + " " + (e.has("dst") ? e.get("dst").asText() : "-"));
        }
        return out;
    }

    @Test
    void fdbEntriesAreAppendedReplacedListedAndDeleted() {
        nl.appendFdb("wftv0", MacAddress.ZERO, literal("10.213.1.2"));
        nl.appendFdb("wftv0", MacAddress.ZERO, literal("10.213.1.3")); // append: a second destination
        nl.appendFdb("wftv0", MacAddress.ZERO, literal("10.213.1.3")); // again: no change, no error
        nl.replaceFdb("wftv0", PEER, literal("10.213.1.4"));
        nl.replaceFdb("wftv0", PEER, literal("10.213.1.2"));            // replace: the unicast entry moves

        List<FdbEntry> fdb = nl.fdb("wftv0");
        assertEquals(3, fdb.size(), fdb.toString());
        assertTrue(fdb.contains(new FdbEntry("wftv0", MacAddress.ZERO, literal("10.213.1.2"))), fdb.toString());
        assertTrue(fdb.contains(new FdbEntry("wftv0", MacAddress.ZERO, literal("10.213.1.3"))), fdb.toString());
        assertTrue(fdb.contains(new FdbEntry("wftv0", PEER, literal("10.213.1.2"))), fdb.toString());
        List<String> shown = bridgeFdb();
        assertEquals(3, shown.size(), shown.toString());
        assertTrue(shown.contains("00:00:00:00:00:00 10.213.1.2"), shown.toString());
        assertTrue(shown.contains("00:00:00:00:00:00 10.213.1.3"), shown.toString());
        assertTrue(shown.contains(PEER + " 10.213.1.2"), shown.toString());

        NetlinkException refused = assertThrows(NetlinkException.class,
                () -> nl.replaceFdb("wftv0", MacAddress.ZERO, literal("10.213.1.5")));
        assertEquals(Errno.EOPNOTSUPP, refused.error(), refused.getMessage());
        assertTrue(refused.getMessage().startsWith("replace fdb 00:00:00:00:00:00 dst 10.213.1.5 dev wftv0: "
                + "Operation not supported (EOPNOTSUPP)"), refused.getMessage());

        nl.deleteFdb("wftv0", MacAddress.ZERO, literal("10.213.1.3"));
        nl.deleteFdb("wftv0", PEER, literal("10.213.1.2"));
        assertEquals(List.of(new FdbEntry("wftv0", MacAddress.ZERO, literal("10.213.1.2"))), nl.fdb("wftv0"));
        assertEquals(List.of("00:00:00:00:00:00 10.213.1.2"), bridgeFdb());
        NetlinkException missing = assertThrows(NetlinkException.class,
                () -> nl.deleteFdb("wftv0", PEER, literal("10.213.1.2")));
        assertTrue(missing.isNotFound(), missing.getMessage());
        assertTrue(missing.getMessage().startsWith("delete fdb " + PEER + " dst 10.213.1.2 dev wftv0: "),
                missing.getMessage());
    }
}
