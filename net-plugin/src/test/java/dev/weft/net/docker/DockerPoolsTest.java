package dev.weft.net.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weft.net.netlink.IpPrefix;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

/** The IPAM driver's arithmetic, without sockets. */
class DockerPoolsTest {
    private static IpPrefix p(String s) {
        return IpPrefix.parse(s);
    }

    @Test
    void poolIdsRoundTripAndForeignOnesAreRefused() {
        assertEquals("weft:10.192.0.0/16", DockerPools.poolId(p("10.192.0.0/16")));
        assertEquals(p("10.192.0.0/16"), DockerPools.parsePoolId("weft:10.192.0.0/16"));
        assertThrows(IllegalArgumentException.class, () -> DockerPools.parsePoolId("default/10.0.0.0/8"));
        assertThrows(IllegalArgumentException.class, () -> DockerPools.parsePoolId(null));
    }

    @Test
    void cidrsMustBeIpv4NetworkAddresses() {
        assertEquals(p("10.1.0.0/16"), DockerPools.parseCidr("10.1.0.0/16", "pool"));
        IllegalArgumentException hostBits = assertThrows(IllegalArgumentException.class,
                () -> DockerPools.parseCidr("10.1.2.3/16", "pool"));
        assertTrue(hostBits.getMessage().contains("host bits"), hostBits.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DockerPools.parseCidr("10.1.0.0", "pool"));
        assertThrows(IllegalArgumentException.class, () -> DockerPools.parseCidr("fd00::/64", "pool"));
        assertThrows(IllegalArgumentException.class, () -> DockerPools.parseCidr("blue", "pool"));
        assertEquals("10.1.2.3", DockerPools.parseAddress("10.1.2.3/24").getHostAddress());
        assertEquals("10.1.2.3", DockerPools.parseAddress("10.1.2.3").getHostAddress());
        assertThrows(IllegalArgumentException.class, () -> DockerPools.parseAddress("fd00::1"));
    }

    @Test
    void freeBlocksSkipEverythingTheyOverlap() {
        IpPrefix range = p("10.192.0.0/12");
        assertEquals(Optional.of(p("10.192.0.0/16")), DockerPools.freeBlock(range, 16, List.of()));
        assertEquals(Optional.of(p("10.194.0.0/16")), DockerPools.freeBlock(range, 16,
                List.of(p("10.192.0.0/16"), p("10.193.7.0/24"))));
        assertEquals(Optional.of(p("10.193.0.0/16")), DockerPools.freeBlock(range, 16, List.of(p("10.192.0.0/16"),
                p("172.16.0.0/12"))));
        assertEquals(Optional.empty(), DockerPools.freeBlock(range, 16, List.of(p("10.0.0.0/8"))));
        assertEquals(Optional.of(p("10.207.0.0/16")), DockerPools.freeBlock(range, 16, List.of(p("10.192.0.0/13"),
                p("10.200.0.0/14"), p("10.204.0.0/15"), p("10.206.0.0/16"))));
    }

    @Test
    void gatewaysOverlapsAndContainment() {
        assertEquals("10.192.3.1", DockerPools.gateway(p("10.192.3.0/24")).getHostAddress());
        assertEquals("10.192.3.1/24", DockerPools.withLength(DockerPools.gateway(p("10.192.3.0/24")), 24));
        assertTrue(DockerPools.overlaps(p("10.0.0.0/8"), p("10.192.0.0/16")));
        assertTrue(DockerPools.overlaps(p("10.192.0.0/16"), p("10.0.0.0/8")));
        assertFalse(DockerPools.overlaps(p("10.192.0.0/16"), p("10.193.0.0/16")));
        assertTrue(DockerPools.overlaps(p("0.0.0.0/0"), p("192.168.0.0/16")));
        assertTrue(DockerPools.contains(p("10.192.0.0/16"), IpPrefix.literal("10.192.255.254")));
        assertFalse(DockerPools.contains(p("10.192.0.0/16"), IpPrefix.literal("10.193.0.1")));
    }

    @Test
    void dockerIdsAreShortenedForLogsOnly() {
        String id = "0123456789abcdef".repeat(4);
        assertEquals("0123456789ab", DockerRemoteApi.brief(id));
        assertEquals("blue", DockerRemoteApi.brief("blue"));
    }
}
