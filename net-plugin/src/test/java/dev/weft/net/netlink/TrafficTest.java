package dev.weft.net.netlink;

import static dev.weft.net.netlink.IpPrefix.literal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Two namespaces configured only through the client, and real packets between them: over a veth pair, through
 * a route via a gateway, through an onlink route with a permanent neighbour, and over a VXLAN overlay with
 * learning off whose FDB and neighbours the client wrote (the overlay's shape: flannel's vxlan backend).
 * Traffic is a TCP exchange whose both ends are opened inside the namespaces by {@link NetNs#run}.
 */
class TrafficTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private TestNamespace a;
    private TestNamespace b;
    private NetlinkClient nlA;
    private NetlinkClient nlB;

    @BeforeEach
    void twoNamespacesJoinedByAVethPair() {
        a = TestNamespace.create();
        b = TestNamespace.create();
        nlA = NetlinkClient.openIn(a.path());
        nlB = NetlinkClient.openIn(b.path());
        nlA.createVethPair("wfta0", "wftb0");
        nlA.moveToNamespace("wftb0", b.path());
        nlA.addAddress("wfta0", literal("10.213.0.1"), 24);
        nlB.addAddress("wftb0", literal("10.213.0.2"), 24);
        for (NetlinkClient nl : new NetlinkClient[] {nlA, nlB}) {
            nl.setUp("lo");
        }
        nlA.setUp("wfta0");
        nlB.setUp("wftb0");
    }

    @AfterEach
    void removeNamespaces() {
        for (AutoCloseable c : new AutoCloseable[] {nlA, nlB, a, b}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("cleanup: " + e);
                }
            }
        }
    }

    @Test
    void tcpOverTheVethPair() throws IOException {
        assertTcpRoundTrip(a, b, literal("10.213.0.2"));
        assertTcpRoundTrip(b, a, literal("10.213.0.1"));
    }

    @Test
    void tcpThroughARouteViaAGateway() throws IOException {
        nlB.addAddress("lo", literal("10.99.0.1"), 32);
        nlA.replaceRoute(Route.via(IpPrefix.parse("10.99.0.0/24"), literal("10.213.0.2"), "wfta0"));
        assertTcpRoundTrip(a, b, literal("10.99.0.1"));
    }

    @Test
    void tcpThroughAnOnlinkRouteAndAPermanentNeighbour() throws IOException {
        // the gateway is in no connected subnet of A; A knows its MAC from a permanent entry, never from ARP
        InetAddress gateway = literal("192.168.213.2");
        nlB.addAddress("wftb0", gateway, 32);
        nlB.addAddress("lo", literal("10.98.0.1"), 32);
        MacAddress bMac = nlB.link("wftb0").orElseThrow().mac();
        nlA.replaceNeighbour("wfta0", gateway, bMac, true);
        nlA.replaceRoute(Route.onlink(IpPrefix.parse("10.98.0.0/24"), gateway, "wfta0"));
        assertTcpRoundTrip(a, b, literal("10.98.0.1"));
        assertEquals(bMac, nlA.neighbours("wfta0").stream().filter(n -> n.address().equals(gateway))
                .findFirst().orElseThrow().mac());
    }

    @Test
    void tcpOverAVxlanOverlayWithLearningOff() throws IOException {
        // underlay: the veth pair (10.213.0.0/24); overlay: 10.214.0.0/24 on wftvx0 in each namespace
        MacAddress macA = MacAddress.parse("02:00:5e:21:40:01");
        MacAddress macB = MacAddress.parse("02:00:5e:21:40:02");
        vtep(nlA, "wfta0", "10.213.0.1", macA, "10.214.0.1");
        vtep(nlB, "wftb0", "10.213.0.2", macB, "10.214.0.2");
        // as the overlay's control plane would: neighbour (overlay IP -> MAC), then FDB (MAC -> remote VTEP)
        nlA.replaceNeighbour("wftvx0", literal("10.214.0.2"), macB, true);
        nlB.replaceNeighbour("wftvx0", literal("10.214.0.1"), macA, true);
        assertFalse(tcpOnce(a, b, literal("10.214.0.2"), 500), "no FDB entry yet: frames have nowhere to go");
        nlA.replaceFdb("wftvx0", macB, literal("10.213.0.2"));
        nlB.replaceFdb("wftvx0", macA, literal("10.213.0.1"));
        assertTcpRoundTrip(a, b, literal("10.214.0.2"));
        assertTcpRoundTrip(b, a, literal("10.214.0.1"));
    }

    private static void vtep(NetlinkClient nl, String underlay, String local, MacAddress mac, String overlayIp) {
        int underlayIndex = nl.link(underlay).orElseThrow().index();
        nl.createVxlan(VxlanSpec.of("wftvx0", 4242, 4790, (Inet4Address) literal(local)).withUnderlay(underlayIndex));
        nl.setMac("wftvx0", mac);
        nl.addAddress("wftvx0", literal(overlayIp), 24);
        nl.setUp("wftvx0");
    }

    /**
     * A TCP server bound to {@code address} inside {@code serverNs} and a client connecting from inside
     * {@code clientNs}: passes once a line goes there and back, polling until a deadline.
     */
    private static void assertTcpRoundTrip(TestNamespace clientNs, TestNamespace serverNs, InetAddress address)
            throws IOException {
        try (ServerSocket server = echoServer(serverNs, address)) {
            InetSocketAddress target = new InetSocketAddress(address, server.getLocalPort());
            Poll.until(WAIT, () -> "TCP from " + clientNs.name() + " to " + target + " in " + serverNs.name(),
                    () -> exchange(clientNs, target, 1000));
        }
    }

    /** One attempt, as {@link #assertTcpRoundTrip}: whether a line went there and back within the timeout. */
    private static boolean tcpOnce(TestNamespace clientNs, TestNamespace serverNs, InetAddress address,
                                   int timeoutMillis) throws IOException {
        try (ServerSocket server = echoServer(serverNs, address)) {
            try {
                return exchange(clientNs, new InetSocketAddress(address, server.getLocalPort()), timeoutMillis);
            } catch (IOException e) {
                return false; // refused, timed out, unreachable
            }
        }
    }

    private static boolean exchange(TestNamespace clientNs, InetSocketAddress target, int timeoutMillis)
            throws IOException {
        return NetNs.run(clientNs.path(), () -> {
            try (Socket s = new Socket()) {
                s.connect(target, timeoutMillis);
                s.setSoTimeout(2000);
                OutputStream out = s.getOutputStream();
                out.write("hello\n".getBytes(StandardCharsets.UTF_8));
                String reply = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.UTF_8)).readLine();
                return "echo hello".equals(reply);
            }
        });
    }

    /** A server socket created inside {@code ns} (it stays there) answering each line with "echo LINE". */
    private static ServerSocket echoServer(TestNamespace ns, InetAddress address) throws IOException {
        ServerSocket server = NetNs.run(ns.path(), () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(address, 0));
            return s;
        });
        Thread echo = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket c = server.accept()) {
                    c.setSoTimeout(5000);
                    String line = new BufferedReader(new InputStreamReader(c.getInputStream(),
                            StandardCharsets.UTF_8)).readLine();
                    c.getOutputStream().write(("echo " + line + "\n").getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    // closed at the end of the test, or one failed attempt
                }
            }
        }, "echo-" + ns.name());
        echo.setDaemon(true);
        echo.start();
        return server;
    }
}
