package dev.weft.net.control;

import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.MacAddress;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The key layout both ways, and the JSON values round trip. */
class KeysTest {

    @Test
    void keysAndBack() {
        assertEquals("_weft/net/registry", Keys.REGISTRY);
        assertEquals("_weft/net/networks/blue", Keys.network("blue"));
        String lease = Keys.lease("blue", Ipv4Block.parse("10.200.3.0/24"));
        assertEquals("_weft/net/leases/blue/10.200.3.0", lease);
        assertEquals("blue", Keys.networkOf(lease));
        assertEquals(Ipv4Block.parseAddress("10.200.3.0"), Keys.addressOf(lease));
        String ep = Keys.endpoint("my-net.1", Ipv4Block.parseAddress("10.200.3.17"));
        assertEquals("_weft/net/endpoints/my-net.1/10.200.3.17", ep);
        assertEquals("my-net.1", Keys.networkOf(ep));
        assertEquals(Ipv4Block.parseAddress("10.200.3.17"), Keys.addressOf(ep));
        assertThrows(IllegalArgumentException.class, () -> Keys.networkOf("_weft/net/registry"));
        assertThrows(IllegalArgumentException.class, () -> Keys.addressOf("_weft/net/leases/blue"));
    }

    @Test
    void namesCannotEscapeTheirPrefix() {
        for (String bad : List.of("", "a/b", "../x", "-x", "a b", "x".repeat(65))) {
            assertThrows(IllegalArgumentException.class, () -> Keys.leases(bad), bad);
        }
        assertEquals("_weft/net/leases/A_b.c-9/", Keys.leases("A_b.c-9"));
    }

    @Test
    void valuesRoundTrip() {
        Network n = new Network("blue", "abc", IpPrefix.parse("10.200.0.0/16"), 24, 4096, 1450);
        assertEquals(List.of(n), ControlCodec.registry(ControlCodec.registry(List.of(n))));
        assertEquals(n, ControlCodec.network(ControlCodec.network(n), "k"));
        assertEquals("{\"networks\":[{\"name\":\"blue\",\"id\":\"abc\",\"cidr\":\"10.200.0.0/16\",\"subnetLength\":24,"
                + "\"vni\":4096,\"mtu\":1450}]}",
                new String(ControlCodec.registry(List.of(n)), StandardCharsets.UTF_8));

        HostLease l = new HostLease("blue", "h1", IpPrefix.parse("10.200.3.0/24"), TestStore.ip("192.0.2.7"),
                HostLease.vtepMac("id-1", "abc"));
        ControlCodec.LeaseJson lj = ControlCodec.lease(ControlCodec.lease(l, "id-1"), "k");
        assertEquals("id-1", lj.hostId());
        assertEquals(l, lj.toLease("blue"));

        Endpoint e = new Endpoint("blue", "ep1", "c1", "h1", TestStore.ip("10.200.3.2"),
                MacAddress.parse("02:42:0a:c8:03:02"));
        assertEquals(e, ControlCodec.endpoint(ControlCodec.endpoint(e), "_weft/net/endpoints/blue/10.200.3.2"));
        assertEquals(MacAddress.parse("02:42:0a:c8:03:02"), EndpointIpam.macOf(Ipv4Block.parseAddress("10.200.3.2")));

        ControlCodec.SessionFileJson f = ControlCodec.sessionFile(
                ControlCodec.sessionFile("s-1", Map.of("blue", "10.200.3.0/24")), "f");
        assertEquals(new ControlCodec.SessionFileJson("s-1", Map.of("blue", "10.200.3.0/24")), f);
        assertThrows(IllegalStateException.class, () -> ControlCodec.registry("{".getBytes(StandardCharsets.UTF_8)));
    }
}
