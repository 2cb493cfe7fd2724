package dev.weft.net.host;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.net.control.ControlSettings;
import dev.weft.net.control.ControlView;
import dev.weft.net.control.EndpointIpam;
import dev.weft.net.control.LeaseKeeper;
import dev.weft.net.control.NetworkRegistry;
import dev.weft.net.dataplane.DataPlane;
import dev.weft.net.dataplane.UnderlaySettings;
import dev.weft.net.netlink.NetlinkClient;

import dev.weft.net.netlink.NetNs;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;

/** Test fixtures for simulated hosts: their underlay wiring and their overlay parts on a shared store. */
public final class TestHosts {
    private TestHosts() {
    }

    /**
     * Wires a host namespace to the underlay: veth {@code u0} (in the host, with {@code underlay}/24, up) and
     * {@code wu<n>} on bridge {@code wan0} of the underlay namespace; {@code lo} up.
     */
    public static void wire(NetlinkClient host, Path wan, NetlinkClient wanNl, int n, Inet4Address underlay) {
        host.setUp("lo");
        host.createVethPair("u0", "wu" + n);
        host.moveToNamespace("wu" + n, wan);
        wanNl.setMaster("wu" + n, "wan0");
        wanNl.setUp("wu" + n);
        host.addAddress("u0", underlay, 24);
        host.setUp("u0");
    }

    /**
     * A host's {@link HostNetworks} (not started) with a started lease keeper named {@code name} (session file
     * {@code dir/<name>-net-session}) and a data plane in namespace {@code ns}; both are added to {@code cleanup}.
     */
    public static HostNetworks networks(ReplicatedStore store, Path dir, String name, Inet4Address underlay,
                                        NetlinkClient netlink, Path ns, List<AutoCloseable> cleanup) {
        ControlSettings settings = ControlSettings.defaults();
        LeaseKeeper keeper = new LeaseKeeper(store, settings, name, name, underlay,
                dir.resolve(name + "-net-session"));
        keeper.start();
        cleanup.add(keeper);
        HostNetworks networks = new HostNetworks(new HostOverlay(new NetworkRegistry(store, settings), keeper,
                new EndpointIpam(store, keeper, settings), new ControlView(store), settings,
                new DataPlane(netlink, ns), UnderlaySettings.defaults()));
        cleanup.add(networks);
        return networks;
    }

    /** A listening TCP socket on {@code address} (port chosen by the kernel) inside namespace {@code ns}. */
    public static ServerSocket listen(Path ns, Inet4Address address) throws IOException {
        return NetNs.run(ns, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(address, 0));
            return s;
        });
    }

    /** Whether a TCP connection from namespace {@code from} to {@code to}:{@code port} is accepted within 1 s. */
    public static boolean connects(Path from, Inet4Address to, int port) {
        try {
            Socket s = NetNs.run(from, () -> {
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
}
