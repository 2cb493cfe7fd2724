package dev.weft.net.docker;

import static dev.weft.net.docker.DockerTestSupport.hex;
import static dev.weft.net.docker.DockerTestSupport.isRoot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.testing.Requires;
import dev.weft.net.docker.DockerTestSupport.Reply;
import dev.weft.net.control.ControlSettings;
import dev.weft.net.control.TestStore;
import dev.weft.net.dataplane.OverlayNames;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.Link;
import dev.weft.net.netlink.LinkAddress;
import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.HostOverlay;
import dev.weft.net.host.TestHosts;
import dev.weft.net.netlink.NetlinkClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The driver over its real unix socket (curl as Docker's stand-in), against a real single-member Raft store and a
 * real data plane in a namespace of the test's own ({@code wftdk} + 6 hex) playing the host: its underlay is a veth
 * pair {@code u0}/{@code u1} with 192.168.214.1/24. Nothing is created in the host's own namespace.
 */
class DockerPluginServerTest {
    private static final Inet4Address UNDERLAY = TestStore.ip("192.168.214.1");

    @TempDir
    Path dir;

    private final String prefix = "wftdk" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private String ip;
    private String curl;
    private Path ns;
    private NetlinkClient netlink;
    private RaftStore store;
    private ControlSettings settings;
    private HostNetworks hostA;
    private DockerPluginServer server;

    @BeforeEach
    void startHost() {
        Requires.that(isRoot(), "root (network namespaces)");
        ip = Requires.command("ip");
        curl = Requires.command("curl");
        DockerTestSupport.run(ip, "netns", "add", prefix);
        cleanup.add(() -> DockerTestSupport.run(ip, "netns", "del", prefix));
        ns = Path.of("/var/run/netns", prefix);
        netlink = NetlinkClient.openIn(ns);
        cleanup.add(netlink);
        netlink.setUp("lo");
        netlink.createVethPair("u0", "u1");
        netlink.addAddress("u0", UNDERLAY, 24);
        netlink.setUp("u1");
        netlink.setUp("u0");
        store = TestStore.start(dir.resolve("raft"));
        cleanup.add(store);
        settings = ControlSettings.defaults();
        hostA = host("a", UNDERLAY);
        server = DockerPluginServer.start(new DockerPluginSettings(dir.resolve("plugins/weft.sock"),
                dir.resolve("a-docker-networks.json")), hostA);
        cleanup.add(server);
    }

    @AfterEach
    void stop() {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception | AssertionError e) {
                System.err.println("cleanup: " + e);
            }
        }
    }

    /** A simulated host's overlay parts on the shared store (the data plane is always the namespace's). */
    private HostNetworks host(String name, Inet4Address underlay) {
        return TestHosts.networks(store, dir, prefix + name, underlay, netlink, ns, cleanup);
    }

    @Test
    void activationCapabilitiesAndTheWholeLifeOfAContainer() {
        assertEquals("[\"NetworkDriver\",\"IpamDriver\"]", ok("/Plugin.Activate", "null").get("Implements").toString());
        JsonNode caps = ok("/NetworkDriver.GetCapabilities", "");
        assertEquals("local", caps.get("Scope").asText());
        assertEquals("local", caps.get("ConnectivityScope").asText());
        assertFalse(ok("/IpamDriver.GetCapabilities", "{}").get("RequiresMACAddress").asBoolean(true));
        JsonNode spaces = ok("/IpamDriver.GetDefaultAddressSpaces", "{}");
        assertEquals("weft-local", spaces.get("LocalDefaultAddressSpace").asText());
        assertEquals("weft", spaces.get("GlobalDefaultAddressSpace").asText());

        // docker network create -d weft --ipam-driver weft -o vni=4242 (no --subnet)
        JsonNode pool = ok("/IpamDriver.RequestPool",
                "{\"AddressSpace\":\"weft\",\"Pool\":\"\",\"SubPool\":\"\",\"Options\":{},\"V6\":false}");
        assertEquals("10.192.0.0/16", pool.get("Pool").asText());
        String poolId = pool.get("PoolID").asText();
        assertEquals("10.192.0.1/24", ok("/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Address\":\"\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}")
                .get("Address").asText());
        String networkId = hex(32);
        assertEquals("{}", ok("/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" + networkId + "\",\"Options\":{"
                + "\"com.docker.network.enable_ipv6\":false,\"com.docker.network.generic\":{\"vni\":\"4242\"}},"
                + "\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.192.0.0/16\",\"Gateway\":\"10.192.0.1/24\"}],"
                + "\"IPv6Data\":[]}").toString());
        Network network = hostA.overlay().view().network(networkId).orElseThrow();
        assertEquals(networkId, network.id());
        assertEquals(IpPrefix.parse("10.192.0.0/16"), network.cidr());
        assertEquals(4242, network.vni());
        assertEquals(IpPrefix.parse("10.192.0.0/24"), hostA.overlay().keeper().current(networkId).orElseThrow().subnet());

        // docker run --network …: address, endpoint, join
        String address = ok("/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Address\":\"\",\"Options\":{}}").get("Address").asText();
        assertEquals("10.192.0.2/24", address);
        String endpointId = hex(32);
        JsonNode created = ok("/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" + networkId + "\",\"EndpointID\":\""
                + endpointId + "\",\"Interface\":{\"Address\":\"" + address
                + "\",\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{}}");
        assertEquals("02:42:0a:c0:00:02", created.get("Interface").get("MacAddress").asText());
        assertFalse(created.get("Interface").has("Address"), created.toString());
        Endpoint endpoint = hostA.overlay().ipam().find(networkId, endpointId).orElseThrow();
        assertEquals("10.192.0.2", endpoint.ip().getHostAddress());
        // dockerd restarting asks again for the addresses its endpoints hold
        assertEquals("10.192.0.2/24", ok("/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Address\":\"10.192.0.2\",\"Options\":{}}").get("Address").asText());
        assertEquals(500, call("/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Address\":\"10.192.0.77\"}").status(), "--ip is not supported");
        assertEquals(1, hostA.overlay().ipam().endpoints(networkId).size());
        assertEquals("{\"Value\":{}}", ok("/NetworkDriver.EndpointOperInfo", "{\"NetworkID\":\"" + networkId
                + "\",\"EndpointID\":\"" + endpointId + "\"}").toString());

        JsonNode joined = ok("/NetworkDriver.Join", "{\"NetworkID\":\"" + networkId + "\",\"EndpointID\":\""
                + endpointId + "\",\"SandboxKey\":\"/var/run/docker/netns/0123abcd\",\"Options\":{}}");
        String srcName = joined.get("InterfaceName").get("SrcName").asText();
        assertEquals("eth", joined.get("InterfaceName").get("DstPrefix").asText());
        assertEquals("10.192.0.1", joined.get("Gateway").asText());
        assertEquals("[]", joined.get("StaticRoutes").toString());
        Link bridge = netlink.link("wfb4242").orElseThrow();
        assertTrue(netlink.addresses("wfb4242").contains(new LinkAddress("wfb4242", TestStore.ip("10.192.0.1"), 24)));
        String hostEnd = OverlayNames.hostVeth(endpoint);
        Link host = netlink.link(hostEnd).orElseThrow();
        assertEquals(bridge.index(), host.masterIndex(), "the host end is on the bridge");
        assertTrue(host.up());
        Link container = netlink.link(srcName).orElseThrow(() -> new AssertionError(srcName + " is not in the host"));
        assertEquals("02:42:0a:c0:00:02", container.mac().toString());
        assertEquals(1450, container.mtu(), "underlay MTU 1500 - 50");
        assertEquals(1450, host.mtu());
        // Join again (Docker retrying) is an ensure
        assertEquals(srcName, ok("/NetworkDriver.Join", "{\"NetworkID\":\"" + networkId + "\",\"EndpointID\":\""
                + endpointId + "\",\"SandboxKey\":\"/var/run/docker/netns/0123abcd\",\"Options\":{}}")
                .get("InterfaceName").get("SrcName").asText());

        // docker rm -f: leave, delete the endpoint, release its address
        assertEquals("{}", ok("/NetworkDriver.Leave", "{\"NetworkID\":\"" + networkId + "\",\"EndpointID\":\""
                + endpointId + "\"}").toString());
        assertTrue(netlink.link(hostEnd).isEmpty());
        assertTrue(netlink.link(srcName).isEmpty());
        assertEquals("{}", ok("/NetworkDriver.DeleteEndpoint", "{\"NetworkID\":\"" + networkId
                + "\",\"EndpointID\":\"" + endpointId + "\"}").toString());
        assertEquals("{}", ok("/IpamDriver.ReleaseAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Address\":\"10.192.0.2\"}").toString());
        assertEquals(List.of(), hostA.overlay().ipam().endpoints(networkId));

        // docker network rm
        assertEquals("{}", ok("/NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"" + networkId + "\"}").toString());
        assertEquals(List.of(), hostA.overlay().view().networks());
        assertTrue(netlink.link("wfb4242").isEmpty());
        assertTrue(netlink.link("wfv4242").isEmpty());
        assertEquals("{}", ok("/IpamDriver.ReleaseAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Address\":\"10.192.0.1\"}").toString());
        assertEquals("{}", ok("/IpamDriver.ReleasePool", "{\"PoolID\":\"" + poolId + "\"}").toString());
        assertEquals(List.of(), hostA.overlay().view().endpoints());
    }

    @Test
    void aSecondHostCreatingTheSameSubnetJoinsTheNetwork() {
        String poolId = ok("/IpamDriver.RequestPool", "{\"AddressSpace\":\"weft\"}").get("PoolID").asText();
        ok("/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}");
        String idA = hex(32);
        ok("/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" + idA + "\",\"Options\":{\"com.docker.network.generic\":"
                + "{\"name\":\"blue\"}},\"IPv4Data\":[{\"AddressSpace\":\"weft\",\"Pool\":\"10.192.0.0/16\"}]}");
        // a pending pool is not handed out twice, nor an existing network's
        assertEquals("10.193.0.0/16", ok("/IpamDriver.RequestPool", "{\"AddressSpace\":\"weft\"}").get("Pool")
                .asText());
        assertEquals("10.194.0.0/16", ok("/IpamDriver.RequestPool", "{\"AddressSpace\":\"weft\"}").get("Pool")
                .asText());

        // host B: docker network create -d weft --ipam-driver weft --subnet 10.192.0.0/16 -o name=blue
        HostNetworks networksB = host("b", TestStore.ip("192.168.214.2"));
        HostOverlay hostB = networksB.overlay();
        try (DockerRemoteApi b = new DockerRemoteApi(networksB, new DockerPluginSettings(dir.resolve("unused.sock"),
                dir.resolve("b-docker-networks.json")))) {
            JsonNode pool = direct(b, "/IpamDriver.RequestPool",
                    "{\"AddressSpace\":\"weft\",\"Pool\":\"10.192.0.0/16\"}");
            assertEquals(poolId, pool.get("PoolID").asText());
            assertEquals("10.192.1.1/24", direct(b, "/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                    + "\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}").get("Address")
                    .asText());
            String idB = hex(32);
            DockerRemoteApi.Answer wrongName = b.handle("/NetworkDriver.CreateNetwork", ("{\"NetworkID\":\"" + idB
                    + "\",\"Options\":{\"com.docker.network.generic\":{\"name\":\"green\"}},"
                    + "\"IPv4Data\":[{\"Pool\":\"10.192.0.0/16\"}]}").getBytes(StandardCharsets.UTF_8));
            assertEquals(500, wrongName.status());
            assertTrue(wrongName.body().get("Err").asText().contains("belongs to weft network 'blue'"),
                    wrongName.body().toString());
            direct(b, "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" + idB + "\",\"Options\":{"
                    + "\"com.docker.network.generic\":{\"name\":\"blue\"}},"
                    + "\"IPv4Data\":[{\"Pool\":\"10.192.0.0/16\"}]}");
            assertEquals(1, hostB.view().networks().size());
            assertEquals(idA, hostB.view().network("blue").orElseThrow().id());
            assertEquals("10.192.1.2/24", direct(b, "/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId + "\"}")
                    .get("Address").asText());
            String endpointB = hex(32);
            direct(b, "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" + idB + "\",\"EndpointID\":\"" + endpointB
                    + "\",\"Interface\":{\"Address\":\"10.192.1.2/24\",\"MacAddress\":\"02:42:0a:c0:01:99\"}}");
            assertEquals("02:42:0a:c0:01:99", hostB.ipam().find("blue", endpointB).orElseThrow().mac().toString());
            // host A cannot bind host B's address
            JsonNode refused = call("/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" + idA
                    + "\",\"EndpointID\":\"" + hex(32) + "\",\"Interface\":{\"Address\":\"10.192.1.2/24\"}}").body();
            assertTrue(refused.get("Err").asText().contains("--ipam-driver weft"), refused.toString());

            // B leaves the network: its lease and address go, the network stays for A
            direct(b, "/NetworkDriver.DeleteEndpoint", "{\"NetworkID\":\"" + idB + "\",\"EndpointID\":\"" + endpointB
                    + "\"}");
            direct(b, "/IpamDriver.ReleaseAddress", "{\"PoolID\":\"" + poolId + "\",\"Address\":\"10.192.1.2\"}");
            direct(b, "/NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"" + idB + "\"}");
            assertTrue(hostB.view().network("blue").isPresent());
            assertTrue(hostB.keeper().current("blue").isEmpty());
            assertEquals(List.of(), hostB.ipam().endpoints("blue"));
        }
        ok("/NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"" + idA + "\"}");
        assertEquals(List.of(), hostA.overlay().view().networks());
    }

    @Test
    void badRequestsAreAnsweredWithErrAndTheSocketIsPrivate() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(server.socket())));
        Reply badJson = call("/NetworkDriver.CreateNetwork", "{\"NetworkID\":");
        assertEquals(400, badJson.status());
        assertTrue(badJson.body().get("Err").asText().contains("invalid JSON"), badJson.body().toString());
        assertEquals(DockerPluginServer.CONTENT_TYPE, badJson.contentType());
        Reply unknown = call("/NetworkDriver.Frobnicate", "{}");
        assertEquals(404, unknown.status());
        assertTrue(unknown.body().get("Err").asText().contains("/NetworkDriver.Frobnicate"), unknown.body().toString());
        Reply get = DockerTestSupport.curl(curl, "-sS", "--unix-socket", server.socket().toString(), "-w",
                "\n%{http_code} %{content_type}",
                "http://localhost/Plugin.Activate");
        assertEquals(405, get.status());
        Reply v6 = call("/IpamDriver.RequestPool", "{\"AddressSpace\":\"weft\",\"V6\":true}");
        assertEquals(500, v6.status());
        assertTrue(v6.body().get("Err").asText().contains("IPv4 only"), v6.body().toString());
        Reply noNetwork = call("/NetworkDriver.Join", "{\"NetworkID\":\"" + hex(32) + "\",\"EndpointID\":\"e\"}");
        assertEquals(500, noNetwork.status());
        assertTrue(noNetwork.body().get("Err").asText().startsWith("unknown network"), noNetwork.body().toString());
        Reply noPool = call("/IpamDriver.RequestAddress", "{\"PoolID\":\"weft:10.200.0.0/16\"}");
        assertEquals(500, noPool.status());
        assertTrue(noPool.body().get("Err").asText().contains("has no weft network yet"), noPool.body().toString());
        Reply staticIp = call("/IpamDriver.RequestAddress",
                "{\"PoolID\":\"weft:10.200.0.0/16\",\"Address\":\"10.200.0.9\"}");
        assertEquals(500, staticIp.status());
        assertNotEquals("", staticIp.body().get("Err").asText());
        // a stale socket file is replaced at start
        server.close();
        Files.writeString(server.socket(), "stale");
        server = DockerPluginServer.start(new DockerPluginSettings(server.socket(),
                dir.resolve("a-docker-networks.json")),
                hostA);
        cleanup.add(server);
        assertEquals(200, call("/Plugin.Activate", "").status());
    }

    // ---------------------------------------------------------------- helpers

    private JsonNode ok(String method, String json) {
        Reply r = call(method, json);
        assertEquals(200, r.status(), method + ": " + r.body());
        return r.body();
    }

    private static JsonNode direct(DockerRemoteApi api, String method, String json) {
        DockerRemoteApi.Answer a = api.handle(method, json.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, a.status(), method + ": " + a.body());
        return a.body();
    }

    private Reply call(String method, String json) {
        return DockerTestSupport.call(curl, server.socket(), method, json);
    }
}
