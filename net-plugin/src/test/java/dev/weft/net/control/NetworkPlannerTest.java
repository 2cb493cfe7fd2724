package dev.weft.net.control;

import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetworkPlannerTest {
    private static final ControlSettings S = ControlSettings.defaults();

    private static Network net(String name, String cidr, int vni) {
        return new Network(name, name + "-id", IpPrefix.parse(cidr), 24, vni, 0);
    }

    @Test
    void defaultsComeFromThePoolAndTheVniBase() {
        Network a = NetworkPlanner.plan(List.of(), NetworkRequest.named("a"), S, "gen");
        assertEquals(new Network("a", "gen", IpPrefix.parse("10.192.0.0/16"), 24, 4096, 0), a);
        Network b = NetworkPlanner.plan(List.of(a), NetworkRequest.named("b").withId("B"), S, "gen");
        assertEquals(new Network("b", "B", IpPrefix.parse("10.193.0.0/16"), 24, 4097, 0), b);
    }

    @Test
    void explicitValuesAreKeptAndSkippedByDefaults() {
        List<Network> existing = List.of(net("x", "10.192.0.0/24", 4096), net("y", "172.16.0.0/12", 4098));
        Network z = NetworkPlanner.plan(existing, NetworkRequest.named("z"), S, "gen");
        assertEquals("10.193.0.0/16", z.cidr().toString(), "the /16 holding x is not free");
        assertEquals(4097, z.vni());
        Network w = NetworkPlanner.plan(existing, NetworkRequest.named("w").withCidr("192.168.0.0/20")
                .withSubnetLength(26).withVni(7).withMtu(1400), S, "gen");
        assertEquals(new Network("w", "gen", IpPrefix.parse("192.168.0.0/20"), 26, 7, 1400), w);
        Network small = NetworkPlanner.plan(existing, NetworkRequest.named("s").withCidr("192.168.0.0/28"), S, "g");
        assertEquals(28, small.subnetLength(), "a network smaller than a /24 is one subnet");
    }

    @Test
    void refusesConflictsWithClearMessages() {
        List<Network> existing = List.of(net("a", "10.1.0.0/16", 4096));
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("b").withCidr("10.0.0.0/8"), S, "g"));
        assertEquals("CIDR 10.0.0.0/8 of network 'b' overlaps network 'a' (10.1.0.0/16)", overlap.getMessage());
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("a").withCidr("10.2.0.0/16"), S, "g"));
        assertTrue(name.getMessage().startsWith("network name 'a' is taken"), name.getMessage());
        IllegalArgumentException vni = assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("b").withVni(4096), S, "g"));
        assertEquals("VNI 4096 is taken by network 'a'", vni.getMessage());
        IllegalArgumentException id = assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("b").withId("a-id"), S, "g"));
        assertEquals("network ID 'a-id' is taken by network 'a'", id.getMessage());
        assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("bad/name"), S, "g"));
        assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("b").withVni(1 << 24), S, "g"));
        assertThrows(IllegalArgumentException.class, () ->
                NetworkPlanner.plan(existing, NetworkRequest.named("b").withCidr("fd00::/64"), S, "g"));
        assertThrows(IllegalArgumentException.class, () -> NetworkPlanner.plan(existing,
                NetworkRequest.named("b").withCidr("10.9.0.0/16").withSubnetLength(8), S, "g"));
    }

    @Test
    void anExhaustedPoolSaysSo() {
        ControlSettings tiny = S.withClusterRange(IpPrefix.parse("10.192.0.0/15"));
        List<Network> existing = new ArrayList<>();
        existing.add(NetworkPlanner.plan(existing, NetworkRequest.named("n0"), tiny, "i0"));
        existing.add(NetworkPlanner.plan(existing, NetworkRequest.named("n1"), tiny, "i1"));
        PoolExhaustedException e = assertThrows(PoolExhaustedException.class,
                () -> NetworkPlanner.plan(existing, NetworkRequest.named("n2"), tiny, "i2"));
        assertTrue(e.getMessage().startsWith("no free /16 left in the cluster range 10.192.0.0/15"), e.getMessage());
        // A network with an explicit CIDR outside the pool still fits.
        NetworkPlanner.plan(existing, NetworkRequest.named("n2").withCidr("10.50.0.0/16"), tiny, "i2");
    }

    @Test
    void freeVniIsTheLowestAtOrAboveTheBase() {
        assertEquals(4096, NetworkPlanner.freeVni(4096, Set.of(1, 2, 4095)));
        assertEquals(4098, NetworkPlanner.freeVni(4096, Set.of(4096, 4097, 4099)));
        assertThrows(PoolExhaustedException.class, () -> NetworkPlanner.freeVni(0xFFFFFF, Set.of(0xFFFFFF)));
    }
}
