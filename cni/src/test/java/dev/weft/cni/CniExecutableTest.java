package dev.weft.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.testing.Poll;
import dev.weft.net.cni.CniApi;
import dev.weft.net.control.TestStore;
import dev.weft.net.host.TestHosts;
import dev.weft.net.model.Endpoint;
import dev.weft.net.netlink.NetlinkClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * The executable as a runtime runs it (environment + stdin, through the symlinked launcher) against a
 * {@link dev.weft.net.cni.CniServer} of a simulated host (a namespace with an underlay veth), a real Raft store and
 * real container namespaces.
 */
class CniExecutableTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String BLUE = "{\"cniVersion\":\"1.0.0\",\"name\":\"blue\",\"type\":\"weft-cni\","
            + "\"subnet\":\"10.210.0.0/16\"}";

    @TempDir
    Path dir;

    private CniLab lab;
    private CniLab.Host host;

    @BeforeEach
    void start() {
        lab = CniLab.start(dir);
        host = lab.host(1);
    }

    @AfterEach
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    private CniLab.Run ok(String command, String container, Path netns, String ifName, String config) {
        CniLab.Run r = lab.cni(host, command, container, netns, ifName, config);
        assertEquals(0, r.exit(), command + ": " + r);
        return r;
    }

    private JsonNode error(String command, String container, Path netns, String ifName, String config, int code) {
        CniLab.Run r = lab.cni(host, command, container, netns, ifName, config);
        assertEquals(1, r.exit(), command + ": " + r);
        JsonNode e = r.json();
        assertEquals(code, e.path("code").asInt(), r.toString());
        assertFalse(e.path("msg").asText().isEmpty(), r.toString());
        return e;
    }

    private static Inet4Address address(JsonNode result) {
        String a = result.path("ips").path(0).path("address").asText();
        return TestStore.ip(a.substring(0, a.indexOf('/')));
    }

    @Test
    void twoContainersOnOneHostTalkAndDelIsIdempotent() throws IOException {
        Path c1 = lab.namespace("c1");
        Path c2 = lab.namespace("c2");
        JsonNode r1 = ok("ADD", "c1-" + lab.prefix, c1, "eth0", BLUE).json();
        JsonNode r2 = ok("ADD", "c2-" + lab.prefix, c2, "eth0", BLUE).json();

        assertEquals("1.0.0", r1.path("cniVersion").asText());
        assertEquals("10.210.0.2/24", r1.path("ips").path(0).path("address").asText());
        assertEquals("10.210.0.1", r1.path("ips").path(0).path("gateway").asText());
        assertEquals(1, r1.path("ips").path(0).path("interface").asInt());
        assertFalse(r1.path("ips").path(0).has("version"), "1.0.0 results have no ips[].version");
        assertEquals("eth0", r1.path("interfaces").path(1).path("name").asText());
        assertEquals(c1.toString(), r1.path("interfaces").path(1).path("sandbox").asText());
        assertEquals("02:42:0a:d2:00:02", r1.path("interfaces").path(1).path("mac").asText());
        assertTrue(r1.path("interfaces").path(0).path("name").asText().startsWith("wfe"), r1.toString());
        assertFalse(r1.path("interfaces").path(0).has("sandbox"));
        assertEquals("[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.210.0.1\"}]", r1.path("routes").toString());
        assertEquals("{\"nameservers\":[\"10.0.0.53\"],\"search\":[\"weft.local\"]}", r1.path("dns").toString());
        assertEquals("10.210.0.3/24", r2.path("ips").path(0).path("address").asText());
        try (NetlinkClient inside = NetlinkClient.openIn(c1)) {
            assertEquals(1450, inside.link("eth0").orElseThrow().mtu());
        }

        // a repeated ADD of the same attachment answers the same result
        assertEquals(r1, ok("ADD", "c1-" + lab.prefix, c1, "eth0", BLUE).json());

        Inet4Address ip1 = address(r1);
        Inet4Address ip2 = address(r2);
        try (ServerSocket on2 = TestHosts.listen(c2, ip2); ServerSocket on1 = TestHosts.listen(c1, ip1)) {
            Poll.until(WAIT, () -> "TCP from c1 to c2", () -> TestHosts.connects(c1, ip2, on2.getLocalPort()));
            Poll.until(WAIT, () -> "TCP from c2 to c1", () -> TestHosts.connects(c2, ip1, on1.getLocalPort()));
        }

        assertEquals("", ok("DEL", "c1-" + lab.prefix, c1, "eth0", BLUE).stdout());
        assertEquals("", ok("DEL", "c1-" + lab.prefix, c1, "eth0", BLUE).stdout(), "DEL twice is fine");
        assertEquals("", ok("DEL", "c1-" + lab.prefix, null, "eth0", BLUE).stdout(), "DEL without a namespace");
        assertEquals(List.of("10.210.0.3"), host.networks().overlay().ipam().endpoints("blue").stream()
                .map(e -> e.ip().getHostAddress()).toList());
        try (NetlinkClient inside = NetlinkClient.openIn(c1)) {
            assertTrue(inside.link("eth0").isEmpty(), "the container's interface went with its veth");
        }
        // the freed address is given again
        assertEquals("10.210.0.2/24", ok("ADD", "c3-" + lab.prefix, c1, "eth0", BLUE).json().path("ips").path(0)
                .path("address").asText());
        // DEL of an unknown network is fine too
        ok("DEL", "c9", c1, "eth0", "{\"cniVersion\":\"1.0.0\",\"name\":\"nowhere\",\"type\":\"weft-cni\"}");
    }

    @Test
    void checkPassesThenFailsOnceTheVethIsRemovedByHand() {
        Path c1 = lab.namespace("c1");
        JsonNode result = ok("ADD", "k1", c1, "net1", BLUE).json();
        String withPrev = BLUE.substring(0, BLUE.length() - 1) + ",\"prevResult\":" + result + "}";
        assertEquals("", ok("CHECK", "k1", c1, "net1", withPrev).stdout());

        lab.ip(host.ns(), "link", "del", result.path("interfaces").path(0).path("name").asText());
        JsonNode e = error("CHECK", "k1", c1, "net1", withPrev, 100);
        assertTrue(e.path("details").asText().contains("missing"), e.toString());
        error("CHECK", "nobody", c1, "net1", withPrev, 3);
        // 0.3.1 has no CHECK
        error("CHECK", "k1", c1, "net1", withPrev.replace("1.0.0", "0.3.1"), 1);
        // DEL still releases the address with the veth gone
        ok("DEL", "k1", c1, "net1", BLUE);
        assertEquals(List.of(), host.networks().overlay().ipam().endpoints("blue"));
    }

    @Test
    void gcReleasesTheAttachmentsNotListed() {
        Path c1 = lab.namespace("c1");
        Path c2 = lab.namespace("c2");
        Path c3 = lab.namespace("c3");
        ok("ADD", "g1", c1, "eth0", BLUE);
        ok("ADD", "g2", c2, "eth0", BLUE);
        JsonNode kept = ok("ADD", "g3", c3, "eth0", BLUE).json();
        String gc = "{\"cniVersion\":\"1.1.0\",\"name\":\"blue\",\"type\":\"weft-cni\","
                + "\"cni.dev/valid-attachments\":[{\"containerID\":\"g3\",\"ifname\":\"eth0\"}]}";
        error("GC", "", null, "", gc.replace("1.1.0", "1.0.0"), 1);
        assertEquals(3, host.networks().overlay().ipam().endpoints("blue").size(), "GC of 1.0.0 did nothing");
        CniLab.Run r = lab.run(java.util.Map.of("CNI_COMMAND", "GC", "CNI_PATH", "/opt/cni/bin",
                "WEFT_CNI_SOCKET", host.socket().toString()), gc);
        assertEquals(0, r.exit(), r.toString());
        List<Endpoint> left = host.networks().overlay().ipam().endpoints("blue");
        assertEquals(List.of(CniApi.endpointId("g3", "eth0")), left.stream().map(Endpoint::id).toList());
        assertEquals(address(kept), left.get(0).ip());
        try (NetlinkClient inside = NetlinkClient.openIn(c1)) {
            assertTrue(inside.link("eth0").isEmpty(), "GC removed the veth too");
        }
    }

    @Test
    void statusVersionAndBadInput() throws IOException {
        String status = "{\"cniVersion\":\"1.1.0\",\"name\":\"blue\",\"type\":\"weft-cni\"}";
        JsonNode e = error("STATUS", "", null, "", status, 50);
        assertTrue(e.path("msg").asText().contains("no weft network 'blue'"), e.toString());
        ok("STATUS", "", null, "", status.replace("}", ",\"subnet\":\"10.210.0.0/16\"}"));
        Path c1 = lab.namespace("c1");
        ok("ADD", "s1", c1, "eth0", BLUE);
        ok("STATUS", "", null, "", status);

        JsonNode v = ok("VERSION", "", null, "", "{\"cniVersion\":\"1.0.0\"}").json();
        assertEquals("[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]", v.path("supportedVersions").toString());

        error("ADD", "b1", c1, "eth1", "{\"cniVersion\":\"9.9.9\",\"name\":\"blue\",\"type\":\"weft-cni\"}", 1);
        error("ADD", "b1", c1, "eth1", "{\"cniVersion\":\"1.0.0\",\"name\":\"red\",\"type\":\"weft-cni\"}", 7);
        error("ADD", "b1", c1, "eth1", "{\"cniVersion\":\"1.0.0\",\"name\":\"blue\",\"subnet\":\"10.9.0.0/16\"}", 7);
        error("ADD", "b1", c1, "eth1", "{\"cniVersion\":\"1.0.0\",\"name\":\"blue\"", 6);
        error("ADD", "b1", c1, "eth1", "{\"cniVersion\":\"1.0.0\",\"name\":\"blue\",\"runtimeConfig\":"
                + "{\"ips\":[\"10.210.0.9/24\"]}}", 2);
        error("ADD", "b1", dir.resolve("no-such-netns"), "eth1", BLUE, 4);
        error("ADD", "b1", c1, "bad/name", BLUE, 4);
        JsonNode noCommand = CniLab.invoke(lab.executable(), java.util.Map.of("CNI_CONTAINERID", "x"), BLUE).json();
        assertEquals(4, noCommand.path("code").asInt(), noCommand.toString());
        assertEquals(1, host.networks().overlay().ipam().endpoints("blue").size(), "failed ADDs left nothing");

        // a 0.3.1 config gets a 0.3.1 result
        JsonNode old = ok("ADD", "o1", lab.namespace("c2"), "eth0", BLUE.replace("1.0.0", "0.3.1")).json();
        assertEquals("0.3.1", old.path("cniVersion").asText());
        assertEquals("4", old.path("ips").path(0).path("version").asText());
    }

    @Test
    void agentDownIsTryAgainLaterAndTheSocketIsPrivate() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(host.socket())));
        Path c1 = lab.namespace("c1");
        CniLab.Run r = lab.cni(null, "ADD", "d1", c1, "eth0", BLUE);
        assertEquals(1, r.exit(), r.toString());
        assertEquals(11, r.json().path("code").asInt(), r.toString());
        assertEquals("1.0.0", r.json().path("cniVersion").asText());
        r = lab.cni(null, "STATUS", "", null, "", BLUE.replace("1.0.0", "1.1.0"));
        assertEquals(50, r.json().path("code").asInt(), r.toString());
        // agentSocket in the config wins over WEFT_CNI_SOCKET
        String viaConfig = BLUE.replace("}", ",\"agentSocket\":\"" + host.socket() + "\"}");
        assertEquals(0, lab.cni(null, "ADD", "d1", c1, "eth0", viaConfig).exit());
    }
}
