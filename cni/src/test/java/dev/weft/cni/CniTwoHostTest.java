package dev.weft.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.testing.Poll;
import dev.weft.net.control.TestStore;
import dev.weft.net.host.TestHosts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Two simulated hosts (namespaces on an underlay bridge), each with its CNI server: a container added through the
 * executable on each reaches the other across VXLAN, both ways. The first ADD creates the network (its config has
 * a subnet); the second host's config names only the network.
 */
class CniTwoHostTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private CniLab lab;

    @AfterEach
    void stop() {
        if (lab != null) {
            lab.close();
        }
    }

    private static Inet4Address add(CniLab lab, CniLab.Host h, String container, Path netns, String config) {
        CniLab.Run r = lab.cni(h, "ADD", container, netns, "eth0", config);
        assertEquals(0, r.exit(), r.toString());
        JsonNode result = r.json();
        String a = result.path("ips").path(0).path("address").asText();
        return TestStore.ip(a.substring(0, a.indexOf('/')));
    }

    @Test
    void containersOnTwoHostsTalkAcrossVxlan() throws IOException {
        lab = CniLab.start(dir);
        CniLab.Host a = lab.host(1);
        CniLab.Host b = lab.host(2);
        Path ca = lab.namespace("ca");
        Path cb = lab.namespace("cb");
        Inet4Address ipA = add(lab, a, "ca", ca, "{\"cniVersion\":\"1.1.0\",\"name\":\"green\",\"type\":\"weft-cni\","
                + "\"subnet\":\"10.211.0.0/16\",\"mtu\":1400}");
        Inet4Address ipB = add(lab, b, "cb", cb, "{\"cniVersion\":\"1.1.0\",\"name\":\"pods\",\"type\":\"weft-cni\","
                + "\"network\":\"green\"}");
        assertEquals("10.211.0.2", ipA.getHostAddress());
        assertEquals("10.211.1.2", ipB.getHostAddress());
        try (ServerSocket onB = TestHosts.listen(cb, ipB); ServerSocket onA = TestHosts.listen(ca, ipA)) {
            Poll.until(WAIT, () -> "TCP from the container on host 1 to the one on host 2",
                    () -> TestHosts.connects(ca, ipB, onB.getLocalPort()));
            Poll.until(WAIT, () -> "TCP from the container on host 2 to the one on host 1",
                    () -> TestHosts.connects(cb, ipA, onA.getLocalPort()));
        }
    }
}
