package dev.weft.net.dataplane;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import dev.weft.kvstore.testing.Poll;
import dev.weft.net.netlink.NetNs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Traffic between container namespaces: TCP echo servers and clients whose sockets are created inside the
 * namespaces with {@link NetNs#run} (they stay there), and UDP with the don't-fragment bit through libc.
 */
final class Probes {
    static final Duration WAIT = Duration.ofSeconds(20);

    private Probes() {
    }

    /** An echo server bound to {@code address} inside {@code ns}: every line of every connection comes back. */
    static ServerSocket echoServer(Path ns, InetAddress address) throws IOException {
        ServerSocket server = NetNs.run(ns, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(address, 0));
            return s;
        });
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket c = server.accept();
                    Thread echo = new Thread(() -> echo(c), "echo-" + address.getHostAddress());
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    // closed at the end of the test
                }
            }
        }, "accept-" + address.getHostAddress());
        accept.setDaemon(true);
        accept.start();
        return server;
    }

    private static void echo(Socket c) {
        try (c) {
            BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
            PrintWriter out = new PrintWriter(c.getOutputStream(), true, StandardCharsets.UTF_8);
            for (String line; (line = in.readLine()) != null; ) {
                out.println("echo " + line);
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    /** Polls until a line goes from a client in {@code clientNs} to the server and back. */
    static void assertTcp(Path clientNs, InetAddress serverIp, ServerSocket server) {
        InetSocketAddress target = new InetSocketAddress(serverIp, server.getLocalPort());
        Poll.until(WAIT, () -> "TCP from " + clientNs.getFileName() + " to " + target,
                () -> tcpOnce(clientNs, target, 1000));
    }

    /** One attempt: whether a line went there and back; refused, unreachable and timeouts are false. */
    static boolean tcpOnce(Path clientNs, InetSocketAddress target, int timeoutMillis) {
        try (Connection c = connect(clientNs, target, timeoutMillis)) {
            return c.roundTrip("hello");
        } catch (IOException e) {
            return false;
        }
    }

    /** A TCP connection opened from inside {@code clientNs}. */
    static Connection connect(Path clientNs, InetSocketAddress target, int timeoutMillis) throws IOException {
        Socket s = NetNs.run(clientNs, () -> {
            Socket socket = new Socket();
            try {
                socket.connect(target, timeoutMillis);
                return socket;
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        });
        s.setSoTimeout(3000);
        return new Connection(s);
    }

    static final class Connection implements AutoCloseable {
        private final Socket socket;
        private final BufferedReader in;
        private final PrintWriter out;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            this.out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        boolean roundTrip(String line) throws IOException {
            out.println(line);
            return ("echo " + line).equals(in.readLine());
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    // ---------------------------------------------------------------- UDP with DF

    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int IPPROTO_IP = 0;
    private static final int IP_MTU_DISCOVER = 10;
    private static final int IP_PMTUDISC_DO = 2;
    static final int EMSGSIZE = 90;

    private static final class LibC {
        static {
            Native.register(LibC.class, "c");
        }

        static native int socket(int domain, int type, int protocol) throws LastErrorException;

        static native int setsockopt(int fd, int level, int option, int[] value, int length)
                throws LastErrorException;

        static native long sendto(int fd, byte[] buffer, long length, int flags, byte[] address, int addressLength)
                throws LastErrorException;

        static native int close(int fd) throws LastErrorException;
    }

    /** A UDP socket inside {@code ns} that sets DF and never fragments ({@code IP_PMTUDISC_DO}). */
    static int dontFragmentSocket(Path ns) {
        int fd = NetNs.run(ns, () -> LibC.socket(AF_INET, SOCK_DGRAM, 0));
        LibC.setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, new int[] {IP_PMTUDISC_DO}, 4);
        return fd;
    }

    /** Sends {@code size} bytes; the errno when the kernel refuses (EMSGSIZE over the MTU), else 0. */
    static int send(int fd, InetSocketAddress to, int size) {
        ByteBuffer a = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        a.putShort((short) AF_INET);
        a.order(ByteOrder.BIG_ENDIAN).putShort((short) to.getPort());
        a.put(to.getAddress().getAddress());
        try {
            LibC.sendto(fd, new byte[size], size, 0, a.array(), 16);
            return 0;
        } catch (LastErrorException e) {
            return e.getErrorCode();
        }
    }

    static void closeFd(int fd) {
        LibC.close(fd);
    }

    /** A UDP socket bound inside {@code ns}. */
    static DatagramSocket udpReceiver(Path ns, InetAddress address) throws IOException {
        return NetNs.run(ns, () -> {
            DatagramSocket s = new DatagramSocket(new InetSocketAddress(address, 0));
            s.setSoTimeout(200);
            return s;
        });
    }

    /** The size of the next datagram, or -1 when none comes within the socket's timeout. */
    static int receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[65536], 65536);
        try {
            s.receive(p);
            return p.getLength();
        } catch (SocketTimeoutException e) {
            return -1;
        }
    }
}
