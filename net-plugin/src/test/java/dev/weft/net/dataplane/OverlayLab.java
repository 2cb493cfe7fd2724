package dev.weft.net.dataplane;

import dev.weft.net.netlink.Commands;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.kvstore.testing.Requires;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.MacAddress;
import dev.weft.net.netlink.NetlinkClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Simulated hosts for data-plane tests, all network namespaces of the test's own (prefix {@code wftdp} + 6 hex):
 * a "wan" namespace with bridge {@code wan0} as the underlay (MTU {@value #UNDERLAY_MTU}), and per host a
 * namespace whose {@code u0} (192.168.213.N/24) is plugged into it. Containers are namespaces too. Everything
 * is deleted by {@link #close()}, also after a failure half-way; the host's own namespace is never touched.
 * {@code ip} and {@code bridge} are used only to build the underlay fixture and to inspect.
 */
final class OverlayLab implements AutoCloseable {
    static final int UNDERLAY_MTU = 1400;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String ip;
    private final String bridgeCmd;
    private final String prefix = "wftdp" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    private final List<String> namespaces = new ArrayList<>();
    private final List<NetlinkClient> clients = new ArrayList<>();
    private final Map<Integer, Host> hosts = new LinkedHashMap<>();

    /** A simulated host: its namespace, a netlink client in it, and its data plane. */
    record Host(int number, String name, Path ns, NetlinkClient netlink, Inet4Address underlay) {
        DataPlane dataPlane() {
            return new DataPlane(netlink, ns);
        }

        HostLease lease(Network network) {
            return new HostLease(network.name(), name, IpPrefix.parse(subnetBase(network) + "." + number + ".0/24"),
                    underlay, HostLease.vtepMac(name, network.id()));
        }
    }

    OverlayLab(int hostCount) {
        Requires.that(isRoot(), "root (network namespaces)");
        ip = Requires.command("ip");
        bridgeCmd = Requires.command("bridge");
        try {
            Path wan = namespace("w");
            NetlinkClient wanNl = client(wan);
            wanNl.setUp("lo");
            wanNl.createBridge("wan0");
            wanNl.setMtu("wan0", UNDERLAY_MTU);
            wanNl.setUp("wan0");
            for (int i = 1; i <= hostCount; i++) {
                Path ns = namespace("h" + i);
                NetlinkClient nl = client(ns);
                nl.setUp("lo");
                nl.createVethPair("u0", "wu" + i);
                nl.moveToNamespace("wu" + i, wan);
                wanNl.setMtu("wu" + i, UNDERLAY_MTU);
                wanNl.setMaster("wu" + i, "wan0");
                wanNl.setUp("wu" + i);
                Inet4Address underlay = (Inet4Address) IpPrefix.literal("192.168.213." + i);
                nl.setMtu("u0", UNDERLAY_MTU);
                nl.addAddress("u0", underlay, 24);
                nl.setUp("u0");
                hosts.put(i, new Host(i, prefix + "h" + i, ns, nl, underlay));
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    Host host(int number) {
        return hosts.get(number);
    }

    /** A new namespace for a container. */
    Path container(String label) {
        return namespace("c" + label);
    }

    /** A network {@code 10.<vni>.0.0/16}: host N's subnet is {@code 10.<vni>.N.0/24}. */
    static Network network(String name, int vni) {
        return new Network(name, name + "-id", IpPrefix.parse("10." + vni + ".0.0/16"), 24, vni, 0);
    }

    private static String subnetBase(Network network) {
        String a = network.cidr().address().getHostAddress();
        return a.substring(0, a.indexOf('.', a.indexOf('.') + 1));
    }

    /** The endpoint {@code 10.<vni>.<host>.<n>} of a container on a host. */
    Endpoint endpoint(Network network, Host host, int n) {
        String id = prefix + "-" + network.vni() + "-" + host.number() + "-" + n;
        byte[] mac = {0x02, 0x42, (byte) network.vni(), (byte) host.number(), 0, (byte) n};
        return new Endpoint(network.name(), id, "container-" + id, host.name(),
                (Inet4Address) IpPrefix.literal(subnetBase(network) + "." + host.number() + "." + n),
                MacAddress.of(mac));
    }

    private Path namespace(String suffix) {
        String name = prefix + suffix;
        run(ip, "netns", "add", name);
        namespaces.add(name);
        return Path.of("/var/run/netns", name);
    }

    private NetlinkClient client(Path ns) {
        NetlinkClient c = NetlinkClient.openIn(ns);
        clients.add(c);
        return c;
    }

    /** {@code ip -n NS -j ARGS…}, parsed. */
    JsonNode ipJson(Path ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip, "-n", ns.getFileName().toString(), "-j"));
        cmd.addAll(Arrays.asList(args));
        return parse(run(cmd.toArray(String[]::new)));
    }

    /** {@code ip netns exec NS bridge -j fdb show dev DEV}, parsed. */
    JsonNode fdbJson(Path ns, String device) {
        return parse(run(ip, "netns", "exec", ns.getFileName().toString(), bridgeCmd, "-j", "fdb", "show", "dev",
                device));
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json.isBlank() ? "[]" : json);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    @Override
    public void close() {
        for (NetlinkClient c : clients) {
            c.close();
        }
        clients.clear();
        for (String ns : namespaces) {
            try {
                run(ip, "netns", "del", ns);
            } catch (RuntimeException | AssertionError e) {
                System.err.println("cleanup of netns " + ns + ": " + e);
            }
        }
        namespaces.clear();
    }

    private static boolean isRoot() {
        return Commands.isRoot();
    }

    /** Runs a command with a 30 s deadline; its stdout, or an AssertionError with its output. */
    static String run(String... command) {
        return Commands.run(command);
    }
}
