package dev.weft.net.control;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4BlockTest {

    private static int a(String s) {
        return Ipv4Block.parseAddress(s);
    }

    @Test
    void parsesMasksAndFormats() {
        Ipv4Block b = Ipv4Block.parse("10.200.3.77/24");
        assertEquals("10.200.3.0/24", b.toString());
        assertEquals("10.200.3.0/24", b.toPrefix().toString());
        assertEquals("10.192.0.0/12", Ipv4Block.parse("10.200.0.0/12").toString());
        assertEquals("255.255.255.255", Ipv4Block.format(a("255.255.255.255")));
        assertEquals("0.0.0.0/0", Ipv4Block.parse("1.2.3.4/0").toString());
        assertEquals(a("10.200.3.255"), b.broadcast());
        assertEquals(a("10.200.3.1"), b.gateway());
        assertEquals(256, b.size());
        assertThrows(IllegalArgumentException.class, () -> Ipv4Block.parse("fd00::/64"));
        assertThrows(IllegalArgumentException.class, () -> Ipv4Block.parseAddress("host.example"));
    }

    @Test
    void addressesAboveTheSignBitCompareAsUnsigned() {
        Ipv4Block b = Ipv4Block.parse("192.168.0.0/16");
        assertTrue(b.contains(a("192.168.255.255")));
        assertFalse(b.contains(a("192.169.0.0")));
        assertEquals("192.168.255.0/24", b.subnet(255, 24).toString());
        assertEquals(a("192.168.255.255"), b.broadcast());
    }

    @Test
    void containsAndOverlaps() {
        Ipv4Block net = Ipv4Block.parse("10.1.0.0/16");
        assertTrue(net.contains(Ipv4Block.parse("10.1.4.0/24")));
        assertFalse(Ipv4Block.parse("10.1.4.0/24").contains(net));
        assertTrue(net.overlaps(Ipv4Block.parse("10.0.0.0/8")));
        assertTrue(Ipv4Block.parse("10.0.0.0/8").overlaps(net));
        assertTrue(net.overlaps(Ipv4Block.parse("10.1.255.252/30")));
        assertFalse(net.overlaps(Ipv4Block.parse("10.2.0.0/16")));
        assertFalse(net.overlaps(Ipv4Block.parse("10.0.255.0/24")));
    }

    @Test
    void carvesSubnetsInAddressOrder() {
        Ipv4Block net = Ipv4Block.parse("10.200.0.0/16");
        assertEquals(256, net.subnetCount(24));
        assertEquals("10.200.0.0/24", net.subnet(0, 24).toString());
        assertEquals("10.200.3.0/24", net.subnet(3, 24).toString());
        assertEquals("10.200.1.64/26", net.subnet(5, 26).toString());
        assertThrows(IndexOutOfBoundsException.class, () -> net.subnet(256, 24));
        assertThrows(IllegalArgumentException.class, () -> net.subnetCount(8));
    }

    @Test
    void firstFreeSubnetPrefersThePreviousOne() {
        Ipv4Block net = Ipv4Block.parse("10.200.0.0/16");
        Set<Integer> taken = Set.of(a("10.200.0.0"), a("10.200.1.0"));
        assertEquals("10.200.2.0/24", net.firstFreeSubnet(24, taken, null).orElseThrow().toString());
        assertEquals("10.200.9.0/24",
                net.firstFreeSubnet(24, taken, Ipv4Block.parse("10.200.9.0/24")).orElseThrow().toString());
        // A preferred subnet that is taken, of another length, or outside the network is ignored.
        assertEquals("10.200.2.0/24",
                net.firstFreeSubnet(24, taken, Ipv4Block.parse("10.200.1.0/24")).orElseThrow().toString());
        assertEquals("10.200.2.0/24",
                net.firstFreeSubnet(24, taken, Ipv4Block.parse("10.200.9.0/25")).orElseThrow().toString());
        assertEquals("10.200.2.0/24",
                net.firstFreeSubnet(24, taken, Ipv4Block.parse("10.201.9.0/24")).orElseThrow().toString());
        Set<Integer> all = new HashSet<>();
        IntStream.range(0, 4).forEach(i -> all.add(Ipv4Block.parse("10.9.0.0/22").subnet(i, 24).base()));
        assertTrue(Ipv4Block.parse("10.9.0.0/22").firstFreeSubnet(24, all, null).isEmpty());
    }

    @Test
    void carvesAPoolAroundTakenBlocks() {
        Ipv4Block pool = Ipv4Block.parse("10.192.0.0/12");
        assertEquals("10.192.0.0/16", pool.firstFreeBlock(16, List.of()).orElseThrow().toString());
        // A small network inside a /16 makes that whole /16 unavailable; a bigger one covers several.
        assertEquals("10.193.0.0/16",
                pool.firstFreeBlock(16, List.of(Ipv4Block.parse("10.192.7.0/24"))).orElseThrow().toString());
        assertEquals("10.196.0.0/16",
                pool.firstFreeBlock(16, List.of(Ipv4Block.parse("10.192.0.0/14"))).orElseThrow().toString());
        assertTrue(pool.firstFreeBlock(16, List.of(Ipv4Block.parse("10.0.0.0/8"))).isEmpty());
    }

    @Test
    void endpointAddressesSkipNetworkGatewayAndBroadcast() {
        Ipv4Block s = Ipv4Block.parse("10.200.3.0/24");
        assertEquals(253, s.endpointCapacity());
        assertEquals(a("10.200.3.2"), s.lowestFreeEndpoint(Set.of()).getAsInt());
        assertEquals(a("10.200.3.4"), s.lowestFreeEndpoint(Set.of(a("10.200.3.2"), a("10.200.3.3"))).getAsInt());
        assertFalse(s.isEndpointAddress(a("10.200.3.0")));
        assertFalse(s.isEndpointAddress(a("10.200.3.1")));
        assertFalse(s.isEndpointAddress(a("10.200.3.255")));
        assertTrue(s.isEndpointAddress(a("10.200.3.254")));
        Ipv4Block tiny = Ipv4Block.parse("10.0.0.4/30");
        assertEquals(1, tiny.endpointCapacity());
        assertEquals(a("10.0.0.6"), tiny.lowestFreeEndpoint(Set.of()).getAsInt());
        assertTrue(tiny.lowestFreeEndpoint(Set.of(a("10.0.0.6"))).isEmpty());
        Set<Integer> full = new HashSet<>();
        for (int i = 2; i < 255; i++) {
            full.add(s.base() + i);
        }
        assertTrue(s.lowestFreeEndpoint(full).isEmpty());
    }
}
