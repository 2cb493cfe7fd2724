package dev.weft.dns;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DnsConfigTest {
    @Test
    void defaults() {
        DnsConfig c = DnsConfig.defaults();
        assertEquals(InetAddress.getLoopbackAddress(), c.bindAddress());
        assertEquals(8600, c.port());
        assertEquals("weft.", c.domain());
        assertNull(c.altDomain());
        assertEquals("dc1", c.datacenter());
        assertEquals(List.of(), c.recursors());
        assertEquals(Duration.ofSeconds(2), c.recursorTimeout());
        assertFalse(c.onlyPassing());
        assertEquals(Duration.ZERO, c.nodeTtl());
        assertEquals(Duration.ZERO, c.serviceTtl("web"));
        assertEquals(Duration.ZERO, c.soaMinTtl());
        assertEquals(4 * 1024 * 1024, c.udpReceiveBuffer());
        assertEquals(InetAddress.getLoopbackAddress(), c.advertiseAddress());
        assertEquals(DnsConfig.DEFAULT_CACHE_ENTRIES, c.cacheEntries());
        long heapEighth = Runtime.getRuntime().maxMemory() / 8;
        assertEquals(Math.max(1L << 20, Math.min(64L << 20, heapEighth)), c.cacheBytes());
        assertEquals(c.cacheBytes(), c.toBuilder().build().cacheBytes());
    }

    @Test
    void cacheBoundsMustNotBeNegative() {
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().cacheBytes(-1).build());
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().cacheEntries(-1).build());
        assertEquals(4096, DnsConfig.builder().cacheBytes(4096).build().toBuilder().build().cacheBytes());
    }

    @Test
    void domainsAreNormalized() {
        DnsConfig c = DnsConfig.builder().domain(".Cluster.Local").altDomain("consul").build();
        assertEquals("cluster.local.", c.domain());
        assertEquals("consul.", c.altDomain());
        assertEquals("cluster.local.", c.toBuilder().build().domain());
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().domain(".").build());
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().domain("a..b").build());
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().altDomain("weft").build());
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().port(70000).build());
        assertThrows(IllegalArgumentException.class, () -> DnsConfig.builder().datacenter("a.b").build());
    }

    @Test
    void serviceTtlExactThenLongestPrefixThenWildcard() {
        DnsConfig c = DnsConfig.builder()
                .serviceTtl("*", Duration.ofSeconds(5))
                .serviceTtl("db*", Duration.ofSeconds(10))
                .serviceTtl("db-primary*", Duration.ofSeconds(20))
                .serviceTtl("Web", Duration.ofSeconds(30))
                .build();
        assertEquals(Duration.ofSeconds(30), c.serviceTtl("web"));
        assertEquals(Duration.ofSeconds(30), c.serviceTtl("WEB"));
        assertEquals(Duration.ofSeconds(20), c.serviceTtl("db-primary-1"));
        assertEquals(Duration.ofSeconds(10), c.serviceTtl("db-replica"));
        assertEquals(Duration.ofSeconds(5), c.serviceTtl("api"));
        DnsConfig noWildcard = DnsConfig.builder().serviceTtl("db*", Duration.ofSeconds(10)).build();
        assertEquals(Duration.ZERO, noWildcard.serviceTtl("api"));
    }

    @Test
    void parseRecursor() throws UnknownHostException {
        assertEquals(new InetSocketAddress(InetAddress.getByName("1.2.3.4"), 53), DnsConfig.parseRecursor("1.2.3.4"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("1.2.3.4"), 5353),
                DnsConfig.parseRecursor("1.2.3.4:5353"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 53), DnsConfig.parseRecursor("[::1]:53"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 53), DnsConfig.parseRecursor("[::1]"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("fd00::1"), 53), DnsConfig.parseRecursor("fd00::1"));
        for (String bad : new String[] {"", "dns.google", "1.2.3.4:0", "1.2.3.4:x", "[::1", "[::1]x", "1.2.3:53",
            "1.2.3.4:70000"}) {
            assertThrows(IllegalArgumentException.class, () -> DnsConfig.parseRecursor(bad), bad);
        }
    }
}
