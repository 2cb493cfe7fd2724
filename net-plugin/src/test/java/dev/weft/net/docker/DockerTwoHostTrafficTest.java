package dev.weft.net.docker;

import static dev.weft.net.docker.DockerTestSupport.hex;
import static dev.weft.net.docker.DockerTestSupport.isRoot;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import dev.weft.net.control.ControlSettings;
import dev.weft.net.control.ControlView;
import dev.weft.net.control.EndpointIpam;
import dev.weft.net.control.LeaseKeeper;
import dev.weft.net.control.NetworkRegistry;
import dev.weft.net.control.TestStore;
import dev.weft.net.dataplane.DataPlane;
import dev.weft.net.dataplane.UnderlaySettings;
import dev.weft.net.docker.DockerTestSupport.Reply;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.NetNs;
import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.HostOverlay;
import dev.weft.net.netlink.NetlinkClient;
import dev.weft.net.netlink.Route;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Two simulated hosts (namespaces {@code wftdt} + 6 hex, joined by an underlay bridge in a third), each with its
 * own driver on its own socket and one store: the network is created on both with the same subnet, a container on
 * each is joined through the driver, Docker's part (move the veth into the container, rename it, address, default
 * route via the answered gateway) is done by the test, and TCP goes between the containers both ways — host A
 * learns host B's lease only through the driver's lease watch.
 */
class DockerTwoHostTrafficTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final String prefix = "wftdt" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private String ip;
    private String curl;
    private RaftStore store;

    /** A simulated host: its namespace, netlink client and driver socket. */
    private record Host(int number, Path ns, NetlinkClient netlink, Path socket) {
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

    private Path namespace(String suffix) {
        String name = prefix + suffix;
        DockerTestSupport.run(ip, "netns", "add", name);
        cleanup.add(() -> DockerTestSupport.run(ip, "netns", "del", name));
        return Path.of("/var/run/netns", name);
    }

    private NetlinkClient client(Path ns) {
        NetlinkClient c = NetlinkClient.openIn(ns);
        cleanup.add(c);
        return c;
    }

    private Host host(int n, Path wan, NetlinkClient wanNl) {
        Path ns = namespace("h" + n);
        NetlinkClient nl = client(ns);
        nl.setUp("lo");
        nl.createVethPair("u0", "wu" + n);
        nl.moveToNamespace("wu" + n, wan);
        wanNl.setMaster("wu" + n, "wan0");
        wanNl.setUp("wu" + n);
        Inet4Address underlay = TestStore.ip("192.168.215." + n);
        nl.addAddress("u0", underlay, 24);
        nl.setUp("u0");
        ControlSettings settings = ControlSettings.defaults();
        LeaseKeeper keeper = new LeaseKeeper(store, settings, prefix + "h" + n, prefix + "h" + n, underlay,
                dir.resolve("h" + n + "-net-session"));
        keeper.start();
        cleanup.add(keeper);
        HostNetworks overlay = new HostNetworks(new HostOverlay(new NetworkRegistry(store, settings), keeper,
                new EndpointIpam(store, keeper, settings), new ControlView(store), settings, new DataPlane(nl, ns),
                UnderlaySettings.defaults()));
        cleanup.add(overlay);
        DockerPluginServer server = DockerPluginServer.start(new DockerPluginSettings(
                dir.resolve("h" + n + "/weft.sock"), dir.resolve("h" + n + "-docker-networks.json")), overlay);
        cleanup.add(server);
        return new Host(n, ns, nl, server.socket());
    }

    private JsonNode ok(Host h, String method, String json) {
        Reply r = DockerTestSupport.call(curl, h.socket(), method, json);
        assertEquals(200, r.status(), method + " on host " + h.number() + ": " + r.body());
        return r.body();
    }

    /** {@code docker network create -d weft --ipam-driver weft [--subnet S]} on a host: the pool ID. */
    private String createNetwork(Host h, String subnet) {
        JsonNode pool = ok(h, "/IpamDriver.RequestPool", "{\"AddressSpace\":\"weft\",\"Pool\":\""
                + (subnet == null ? "" : subnet) + "\"}");
        String poolId = pool.get("PoolID").asText();
        String gateway = ok(h, "/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId
                + "\",\"Options\":{\"RequestAddressType\":\"com.docker.network.gateway\"}}").get("Address").asText();
        ok(h, "/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"net" + h.number() + "\",\"Options\":{"
                + "\"com.docker.network.generic\":{\"name\":\"blue\"}},\"IPv4Data\":[{\"AddressSpace\":\"weft\","
                + "\"Pool\":\"" + pool.get("Pool").asText() + "\",\"Gateway\":\"" + gateway + "\"}]}");
        return poolId;
    }

    /** {@code docker run --network blue}: the driver's calls, then what dockerd does with the answers. */
    private Inet4Address runContainer(Host h, String poolId) {
        String address = ok(h, "/IpamDriver.RequestAddress", "{\"PoolID\":\"" + poolId + "\"}").get("Address")
                .asText();
        String endpointId = hex(32);
        JsonNode created = ok(h, "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"net" + h.number()
                + "\",\"EndpointID\":\"" + endpointId + "\",\"Interface\":{\"Address\":\"" + address + "\"}}");
        JsonNode joined = ok(h, "/NetworkDriver.Join", "{\"NetworkID\":\"net" + h.number() + "\",\"EndpointID\":\""
                + endpointId + "\",\"SandboxKey\":\"/var/run/docker/netns/c" + h.number() + "\"}");
        Path container = namespace("c" + h.number());
        String src = joined.get("InterfaceName").get("SrcName").asText();
        h.netlink().moveToNamespace(src, container);
        Inet4Address ipAddress = TestStore.ip(address.substring(0, address.indexOf('/')));
        try (NetlinkClient inside = NetlinkClient.openIn(container)) {
            String eth = joined.get("InterfaceName").get("DstPrefix").asText() + "0";
            inside.rename(src, eth);
            assertEquals(created.get("Interface").get("MacAddress").asText(), inside.link(eth).orElseThrow().mac()
                    .toString());
            inside.addAddress(eth, ipAddress, Integer.parseInt(address.substring(address.indexOf('/') + 1)));
            inside.setUp(eth);
            inside.setUp("lo");
            inside.replaceRoute(Route.via(new IpPrefix(IpPrefix.literal("0.0.0.0"), 0),
                    TestStore.ip(joined.get("Gateway").asText()), eth));
        }
        return ipAddress;
    }

    private static ServerSocket listen(Path ns, Inet4Address address) throws IOException {
        return NetNs.run(ns, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(address, 0));
            return s;
        });
    }

    private static boolean connects(Path ns, Inet4Address to, int port) {
        try {
            Socket s = NetNs.run(ns, () -> {
                Socket socket = new Socket();
                try {
                    socket.connect(new InetSocketAddress(to, port), 1000);
                    return socket;
                } catch (IOException e) {
                    socket.close();
                    throw e;
                }
            });
            s.close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void containersOnTwoHostsJoinedThroughTheDriverTalk() throws IOException {
        Requires.that(isRoot(), "root (network namespaces)");
        ip = Requires.command("ip");
        curl = Requires.command("curl");
        Path wan = namespace("w");
        NetlinkClient wanNl = client(wan);
        wanNl.setUp("lo");
        wanNl.createBridge("wan0");
        wanNl.setUp("wan0");
        store = TestStore.start(dir.resolve("raft"));
        cleanup.add(store);
        Host a = host(1, wan, wanNl);
        Host b = host(2, wan, wanNl);

        String poolId = createNetwork(a, null);
        Inet4Address ipA = runContainer(a, poolId);
        assertEquals(poolId, createNetwork(b, "10.192.0.0/16")); // after A's Join: A follows B's lease by watch
        Inet4Address ipB = runContainer(b, poolId);
        assertEquals("10.192.0.2", ipA.getHostAddress());
        assertEquals("10.192.1.2", ipB.getHostAddress());

        Path containerA = Path.of("/var/run/netns", prefix + "c1");
        Path containerB = Path.of("/var/run/netns", prefix + "c2");
        try (ServerSocket onB = listen(containerB, ipB); ServerSocket onA = listen(containerA, ipA)) {
            Poll.until(WAIT, () -> "TCP from the container on A to the one on B",
                    () -> connects(containerA, ipB, onB.getLocalPort()));
            Poll.until(WAIT, () -> "TCP from the container on B to the one on A",
                    () -> connects(containerB, ipA, onA.getLocalPort()));
        }
    }
}
