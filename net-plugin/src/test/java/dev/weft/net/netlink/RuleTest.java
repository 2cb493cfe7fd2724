package dev.weft.net.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** IPv4 policy-routing rules in a namespace of the test's own, checked against {@code ip -j rule}. */
class RuleTest {
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

    private List<String> ipRules() {
        List<String> out = new ArrayList<>();
        for (JsonNode r : ns.ipJson("rule", "show")) {
            int pref = r.get("priority").asInt();
            if (pref == 32100 || pref == 32101) {
                out.add(pref + " " + r.path("iif").asText() + " " + r.path("dst").asText() + "/"
                        + r.path("dstlen").asText() + " " + r.path("table").asText(r.path("action").asText()));
            }
        }
        return out;
    }

    @Test
    void rulesAreAddedListedAndDeleted() {
        Rule lookup = Rule.lookup(32100, "wftx0", IpPrefix.parse("10.77.0.0/16"), Rule.MAIN_TABLE);
        Rule unreachable = Rule.unreachable(32101, "wftx0");
        nl.addRule(lookup);
        nl.addRule(unreachable);
        assertEquals(List.of("32100 wftx0 10.77.0.0/16 main", "32101 wftx0 / unreachable"), ipRules());
        List<Rule> listed = nl.rules();
        assertTrue(listed.contains(lookup), listed.toString());
        assertTrue(listed.contains(unreachable), listed.toString());
        assertTrue(listed.contains(new Rule(32766, null, null, false, Rule.MAIN_TABLE)), listed.toString());

        NetlinkException twice = assertThrows(NetlinkException.class, () -> nl.addRule(lookup));
        assertTrue(twice.isExists(), twice.toString());
        nl.deleteRule(unreachable);
        nl.deleteRule(lookup);
        assertEquals(List.of(), ipRules());
        NetlinkException gone = assertThrows(NetlinkException.class, () -> nl.deleteRule(lookup));
        assertTrue(gone.isNotFound(), gone.toString());
        assertEquals("pref 32100 iif wftx0 to 10.77.0.0/16 lookup main", lookup.toString());
    }
}
