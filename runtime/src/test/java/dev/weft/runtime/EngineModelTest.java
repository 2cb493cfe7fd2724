package dev.weft.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pure parts of the client: versions, addresses, response heads, backoff, JSON mapping of edge cases. */
class EngineModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void apiVersionsCompareNumericallyAndNegotiate() {
        assertTrue(ApiVersion.parse("1.9").compareTo(ApiVersion.parse("1.41")) < 0);
        assertEquals("1.41", ApiVersion.parse("v1.41").toString());
        ApiVersion max = ApiVersion.parse("1.43");
        assertEquals("1.41", ApiVersion.negotiate(ApiVersion.parse("1.41"), ApiVersion.parse("1.12"), max).toString());
        assertEquals("1.43", ApiVersion.negotiate(ApiVersion.parse("1.51"), ApiVersion.parse("1.24"), max).toString());
        // a server whose minimum is newer than this client: speak its minimum, never below it
        assertEquals("1.44", ApiVersion.negotiate(ApiVersion.parse("1.52"), ApiVersion.parse("1.44"), max).toString());
        assertEquals("1.40", ApiVersion.negotiate(ApiVersion.parse("1.40"), null, max).toString());
        assertThrows(IllegalArgumentException.class, () -> ApiVersion.parse("one.two"));
    }

    @Test
    void dockerHostResolution() {
        assertEquals("unix:///var/run/docker.sock", DockerHost.resolve(null, Map.of()).uri());
        assertEquals("unix:///run/user/1/podman.sock",
                DockerHost.resolve("", Map.of("DOCKER_HOST", "unix:///run/user/1/podman.sock")).uri());
        DockerHost explicit = DockerHost.resolve("unix:///tmp/d.sock", Map.of("DOCKER_HOST", "tcp://h:1"));
        assertEquals(UnixDomainSocketAddress.of("/tmp/d.sock"), explicit.address());
        assertEquals("unix:///tmp/x.sock", DockerHost.parse("/tmp/x.sock").uri());
        DockerHost tcp = DockerHost.parse("tcp://127.0.0.1:2375");
        assertFalse(tcp.unix());
        assertEquals(2375, ((InetSocketAddress) tcp.address()).getPort());
        assertEquals("127.0.0.1:2375", tcp.hostHeader());
        assertEquals("tcp://[::1]:2376", DockerHost.parse("tcp://[::1]:2376").uri());
        assertEquals(2375, ((InetSocketAddress) DockerHost.parse("tcp://docker").address()).getPort());
        for (String bad : List.of("ssh://me@host", "npipe:////./pipe/docker_engine", "unix://relative.sock", "host")) {
            assertThrows(IllegalArgumentException.class, () -> DockerHost.parse(bad), bad);
        }
    }

    @Test
    void responseHeads() throws IOException {
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                + "X-A: 1\r\nx-a: 2\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        HttpHead h = HttpHead.parse(head, head.length);
        assertEquals(200, h.status());
        assertTrue(h.chunked());
        assertEquals(-1, h.contentLength());
        assertEquals("1, 2", h.header("X-A"));
        byte[] bad = "SSH-2.0-OpenSSH\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        assertThrows(IOException.class, () -> HttpHead.parse(bad, bad.length));
    }

    @Test
    void backoffDoublesToTheCapAndResets() {
        ReconnectBackoff b = new ReconnectBackoff(100, 5000);
        long[] got = new long[9];
        for (int i = 0; i < got.length; i++) {
            got[i] = b.next();
        }
        assertEquals(List.of(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 5000L),
                java.util.Arrays.stream(got).boxed().toList());
        b.reset();
        assertEquals(100, b.next());
    }

    /** Shapes a running daemon rarely shows: null labels and bindings, IPv6, several health log entries. */
    @Test
    void inspectMappingOfEdgeCases() throws IOException {
        String inspect = """
                {"Id":"c0ffee","Name":"/db","Config":{"Image":"registry:5000/team/db@sha256:ab",
                 "Env":["PATH=/bin","EMPTY=","FLAG","X=a=b"],"Labels":null,
                 "ExposedPorts":{"5432/tcp":{},"53/udp":{},"80/tcp":{}}},
                 "State":{"Running":false,"Health":{"Status":"unhealthy","Log":[
                   {"ExitCode":0,"Output":"first"},{"ExitCode":1,"Output":"refused\\n"}]}},
                 "HostConfig":{"NetworkMode":"backend"},
                 "NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},
                     {"HostIp":"::","HostPort":"8080"}],"53/udp":null,"5432/tcp":[{"HostIp":"","HostPort":""}]},
                   "Networks":{"backend":{"NetworkID":"n1","IPAddress":"","GlobalIPv6Address":"fd00::5"}}}}
                """;
        Container c = EngineJson.container(JSON.readTree(inspect));
        assertEquals("c0ffee", c.id());
        assertEquals("db", c.name());
        assertEquals("registry:5000/team/db@sha256:ab", c.image());
        assertFalse(c.running());
        assertEquals("unhealthy", c.health());
        assertEquals("refused\n", c.healthOutput());
        assertEquals(Map.of("PATH", "/bin", "EMPTY", "", "FLAG", "", "X", "a=b"), c.env());
        assertEquals(Map.of(), c.labels());
        assertEquals("backend", c.networkMode());
        assertEquals(Map.of("backend", new Container.NetworkAttachment("n1", "", "fd00::5")), c.networks());
        assertEquals(List.of(new Container.PortSpec(53, "udp"), new Container.PortSpec(80, "tcp"),
                new Container.PortSpec(5432, "tcp")), c.exposed());
        assertEquals(List.of(new Container.PublishedPort(new Container.PortSpec(80, "tcp"), "0.0.0.0", 8080),
                new Container.PublishedPort(new Container.PortSpec(80, "tcp"), "::", 8080)), c.published());

        Container bare = EngineJson.container(JSON.readTree("{\"Id\":\"x\",\"State\":{\"Running\":true}}"));
        assertNull(bare.health());
        assertEquals("", bare.healthOutput());
        assertTrue(bare.running());
    }

    @Test
    void dieEventsCarryTheirExitCode() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ContainerEvent die = EngineJson.event(json.readTree("{\"Type\":\"container\",\"Action\":\"die\","
                + "\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"name\":\"web\",\"exitCode\":\"137\"}},"
                + "\"timeNano\":5}")).orElseThrow();
        assertEquals(java.util.OptionalInt.of(137), die.exit());
        assertEquals("web", die.name());
        ContainerEvent start = EngineJson.event(json.readTree("{\"Type\":\"container\",\"Action\":\"start\","
                + "\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"name\":\"web\"}},\"timeNano\":6}"))
                .orElseThrow();
        assertTrue(start.exit().isEmpty());
    }

    @Test
    void errorMessages() {
        assertEquals("No such container: x", EngineJson.errorMessage("{\"message\":\"No such container: x\"}\n", JSON));
        assertEquals("page not found", EngineJson.errorMessage("page not found\n", JSON));
        assertEquals("podman says", EngineJson.errorMessage("{\"cause\":\"podman says\",\"response\":500}", JSON));
    }
}
