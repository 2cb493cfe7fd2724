package dev.weft.chaos.harness;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Free loopback ports. */
final class Ports {
    private Ports() {
    }

    /** Binds n ephemeral loopback ports at once (TCP and UDP free, distinct), then releases them. */
    static int[] freeLoopbackPorts(int n) throws IOException {
        List<AutoCloseable> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            int i = 0;
            while (i < n) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                try {
                    sockets.add(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                            s.getLocalPort())));
                } catch (IOException busyUdp) {
                    continue;
                }
                ports[i++] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (AutoCloseable s : sockets) {
                try {
                    s.close();
                } catch (Exception ignored) {
                    // closing a probe socket
                }
            }
        }
    }
}
