package dev.weft.net.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weft.net.netlink.IpPrefix;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.util.List;

/** The JSON weft answers, per spec version, pinned as text. Pure. */
class CniResultsTest {
    private static final Inet4Address IP = (Inet4Address) IpPrefix.literal("10.210.0.2");
    private static final Inet4Address GW = (Inet4Address) IpPrefix.literal("10.210.0.1");
    private static final CniResults.Interface HOST = new CniResults.Interface("wfe01234567", "0a:00:00:00:00:01",
            null, 1450);
    private static final CniResults.Interface CONTAINER = new CniResults.Interface("eth0", "02:42:0a:d2:00:02",
            "/var/run/netns/c1", 1450);

    @Test
    void addResultOf1_0_0() {
        assertEquals("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"wfe01234567\",\"mac\":\"0a:00:00:00:00:01\"},"
                + "{\"name\":\"eth0\",\"mac\":\"02:42:0a:d2:00:02\",\"sandbox\":\"/var/run/netns/c1\"}],"
                + "\"ips\":[{\"interface\":1,\"address\":\"10.210.0.2/24\",\"gateway\":\"10.210.0.1\"}],"
                + "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.210.0.1\"}],"
                + "\"dns\":{\"nameservers\":[\"10.210.0.1\"],\"search\":[\"weft\"]}}",
                CniResults.add("1.0.0", HOST, CONTAINER, IP, 24, GW, List.of("10.210.0.1"), List.of("weft"), null)
                        .toString());
    }

    @Test
    void addResultOf1_1_0HasMtusAnd0_3_1HasIpVersions() {
        assertEquals("{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"wfe01234567\",\"mac\":\"0a:00:00:00:00:01\","
                + "\"mtu\":1450},{\"name\":\"eth0\",\"mac\":\"02:42:0a:d2:00:02\",\"mtu\":1450,"
                + "\"sandbox\":\"/var/run/netns/c1\"}],\"ips\":[{\"interface\":1,\"address\":\"10.210.0.2/24\","
                + "\"gateway\":\"10.210.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.210.0.1\"}]}",
                CniResults.add("1.1.0", HOST, CONTAINER, IP, 24, GW, List.of(), List.of(), null).toString());
        assertEquals("[{\"version\":\"4\",\"interface\":1,\"address\":\"10.210.0.2/24\",\"gateway\":\"10.210.0.1\"}]",
                CniResults.add("0.3.1", HOST, CONTAINER, IP, 24, GW, List.of(), List.of(), null).get("ips")
                        .toString());
    }

    @Test
    void errorAndVersion() {
        assertEquals("{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"no weft network 'x'\",\"details\":\"create it\"}",
                CniResults.error("1.0.0", 7, "no weft network 'x'", "create it").toString());
        assertEquals("{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"later\"}",
                CniResults.error("1.1.0", 11, "later", "").toString());
        assertEquals("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\","
                + "\"1.1.0\"]}", CniResults.version().toString());
    }
}
