package dev.weft.runtime;

import dev.weft.kvstore.testing.Poll;
import dev.weft.runtime.testing.DockerDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests against a real, private dockerd. */
class DockerClientTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static DockerDaemon daemon;
    private static DockerClient client;

    @BeforeAll
    static void startDaemon() {
        daemon = DockerDaemon.start();
        client = DockerClient.connect(daemon.host());
    }

    @AfterAll
    static void stopDaemon() {
        if (client != null) {
            client.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void pingVersionAndNegotiation() throws IOException {
        assertTrue(client.ping());
        ContainerRuntime.RuntimeVersion v = client.version();
        assertFalse(v.serverVersion().isEmpty());
        assertEquals("linux", v.os());
        ApiVersion server = ApiVersion.parse(v.apiVersion());
        ApiVersion max = ApiVersion.parse(DockerClient.MAX_API_VERSION);
        assertEquals((server.compareTo(max) < 0 ? server : max).toString(), v.negotiatedApiVersion());
        assertEquals(daemon.host(), client.host());
    }

    @Test
    void noDaemonMeansPingFalseAndAnIOException() {
        DockerClient nowhere = DockerClient.connect("unix:///tmp/weft-no-such-dir/docker.sock");
        assertFalse(nowhere.ping());
        IOException e = assertThrows(IOException.class, nowhere::version);
        assertTrue(e.getMessage().contains("cannot connect to docker at unix:///tmp/weft-no-such-dir/docker.sock"),
                e.getMessage());
    }

    @Test
    void inspectMapsAPublishedHttpdContainer() throws IOException {
        String name = "web-" + Long.toHexString(System.nanoTime());
        String id = daemon.run("--name", name, "-p", "127.0.0.1::8080", "-e", "A=1", "-l", "weft.x=y",
                daemon.image(), "httpd", "-f", "-p", "8080");
        Container c = client.inspect(id).orElseThrow();
        assertEquals(id, c.id());
        assertEquals(name, c.name());
        assertEquals(DockerDaemon.IMAGE, c.image());
        assertTrue(c.running());
        assertNull(c.health());
        assertEquals("1", c.env().get("A"));
        assertEquals(Map.of("weft.x", "y"), c.labels());
        assertTrue(List.of("default", "bridge").contains(c.networkMode()), c.networkMode());
        assertEquals(List.of(new Container.PortSpec(8080, "tcp")), c.exposed());
        assertEquals(1, c.published().size(), c.published().toString());
        Container.PublishedPort p = c.published().get(0);
        assertEquals(new Container.PortSpec(8080, "tcp"), p.container());
        assertEquals("127.0.0.1", p.hostIp());
        assertTrue(p.hostPort() > 0);

        Container.NetworkAttachment bridge = c.networks().get("bridge");
        Network network = client.inspectNetwork("bridge").orElseThrow();
        assertEquals(network.id(), bridge.networkId());
        String prefix = daemon.subnet().substring(0, daemon.subnet().lastIndexOf('.') + 1);
        assertTrue(bridge.ipv4().startsWith(prefix), bridge.ipv4() + " in " + daemon.subnet());

        // the published port answers on loopback (docker-proxy to the container on the test bridge)
        String answer = Poll.until(WAIT, () -> "httpd through 127.0.0.1:" + p.hostPort(),
                () -> httpGet(p.hostPort()));
        assertTrue(answer.startsWith("HTTP/1.") && answer.contains("weft-test"), answer);
    }

    @Test
    void inspectOfWhatDoesNotExistIsEmpty() throws IOException {
        assertEquals(Optional.empty(), client.inspect("0123456789abcdef0123456789abcdef"));
        assertEquals(Optional.empty(), client.inspectNetwork("weft-no-such-network"));
        assertThrows(IllegalArgumentException.class, () -> client.inspect(" "));
    }

    @Test
    void theDefaultBridgeNetworkIsTheTestBridge() throws IOException {
        Network n = client.inspectNetwork("bridge").orElseThrow();
        assertEquals("bridge", n.name());
        assertEquals("bridge", n.driver());
        assertEquals("local", n.scope());
        assertEquals(List.of(new Network.Subnet(daemon.subnet(), daemon.gateway())), n.subnets());
        assertEquals(daemon.bridge(), n.options().get("com.docker.network.bridge.name"));
        assertEquals(n, client.inspectNetwork(n.id()).orElseThrow());
    }

    @Test
    void listsRunningContainersOnly() throws IOException {
        String running = daemon.run(daemon.image(), "sleep", "600");
        String exited = daemon.run(daemon.image(), "true");
        Poll.until(WAIT, () -> "container " + exited + " to exit",
                () -> !client.inspect(exited).orElseThrow().running());
        List<String> ids = client.runningContainerIds();
        assertTrue(ids.contains(running), ids.toString());
        assertFalse(ids.contains(exited), ids.toString());
        daemon.exec("rm", "-f", running, exited);
        assertFalse(client.runningContainerIds().contains(running));
    }

    @Test
    void errorsCarryDockersMessage() {
        IOException badFilter = assertThrows(IOException.class,
                () -> client.get("/v" + client.version().negotiatedApiVersion() + "/containers/json?filters=x", false));
        assertTrue(badFilter.getMessage().matches(".*HTTP [45]\\d\\d: invalid character.*"), badFilter.getMessage());
        assertFalse(badFilter.getMessage().contains("{\"message\""), badFilter.getMessage());
        IOException tooOld = assertThrows(IOException.class, () -> client.get("/v1.0/version", false));
        assertTrue(tooOld.getMessage().contains("too old"), tooOld.getMessage());
    }

    private static String httpGet(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return answer.isEmpty() ? null : answer;
        }
    }
}
