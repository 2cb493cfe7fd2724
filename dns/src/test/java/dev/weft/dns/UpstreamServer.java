package dev.weft.dns;

import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny upstream resolver on loopback for forwarding tests, built on dnsjava and plain sockets. It answers a
 * fixed zone: {@code example.test. A 192.0.2.1}, {@code big.example.test.} with 100 A records, and NXDOMAIN
 * for anything else. Modes make it misbehave: truncate every UDP answer, answer SERVFAIL, or stay silent.
 */
final class UpstreamServer implements AutoCloseable {
    enum Mode {
        NORMAL,
        /** UDP answers carry TC and no records; TCP answers are complete. */
        TRUNCATE_UDP,
        SERVFAIL,
        /** Receives and never answers. */
        SILENT
    }

    private final Mode mode;
    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final List<Thread> threads = new ArrayList<>();
    final AtomicInteger udpQueries = new AtomicInteger();
    final AtomicInteger tcpQueries = new AtomicInteger();

    UpstreamServer(Mode mode) throws IOException {
        this.mode = mode;
        InetAddress lo = InetAddress.getLoopbackAddress();
        // The same port for UDP and TCP: take a free TCP port, then bind UDP to it; retry when UDP's is taken.
        ServerSocket t = null;
        DatagramSocket u = null;
        for (int attempt = 0; u == null; attempt++) {
            t = new ServerSocket();
            t.setReuseAddress(true);
            t.bind(new InetSocketAddress(lo, 0));
            try {
                u = new DatagramSocket(new InetSocketAddress(lo, t.getLocalPort()));
            } catch (SocketException e) {
                t.close();
                if (attempt == 20) {
                    throw e;
                }
            }
        }
        this.udp = u;
        this.tcp = t;
        threads.add(new Thread(this::serveUdp, "upstream-udp"));
        threads.add(new Thread(this::serveTcp, "upstream-tcp"));
        threads.forEach(th -> {
            th.setDaemon(true);
            th.start();
        });
    }

    InetSocketAddress address() {
        return (InetSocketAddress) udp.getLocalSocketAddress();
    }

    private void serveUdp() {
        byte[] buf = new byte[65535];
        while (!udp.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                udp.receive(p);
                udpQueries.incrementAndGet();
                if (mode == Mode.SILENT) {
                    continue;
                }
                Message q = new Message(Arrays.copyOf(buf, p.getLength()));
                Message r = answer(q);
                if (mode == Mode.TRUNCATE_UDP) {
                    r.removeAllRecords(Section.ANSWER);
                    r.getHeader().setFlag(Flags.TC);
                }
                byte[] out = r.toWire(65535);
                udp.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
            } catch (SocketException e) {
                return;
            } catch (IOException e) {
                // a query it cannot parse: ignore
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket s = tcp.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] query = new byte[in.readUnsignedShort()];
                in.readFully(query);
                tcpQueries.incrementAndGet();
                if (mode == Mode.SILENT) {
                    continue;
                }
                byte[] out = answer(new Message(query)).toWire(65535);
                DataOutputStream o = new DataOutputStream(s.getOutputStream());
                o.writeShort(out.length);
                o.write(out);
                o.flush();
            } catch (SocketException e) {
                if (tcp.isClosed()) {
                    return;
                }
            } catch (IOException e) {
                // a broken client connection: serve the next
            }
        }
    }

    private Message answer(Message q) throws IOException {
        Message r = new Message(q.getHeader().getID());
        r.getHeader().setFlag(Flags.QR);
        r.getHeader().setFlag(Flags.RA);
        if (q.getHeader().getFlag(Flags.RD)) {
            r.getHeader().setFlag(Flags.RD);
        }
        Record question = q.getQuestion();
        r.addRecord(question, Section.QUESTION);
        if (mode == Mode.SERVFAIL) {
            r.getHeader().setRcode(Rcode.SERVFAIL);
            return r;
        }
        Name name = question.getName();
        if (name.equals(Name.fromString("example.test.")) && question.getType() == Type.A) {
            r.addRecord(new ARecord(name, DClass.IN, 60, InetAddress.getByName("192.0.2.1")), Section.ANSWER);
        } else if (name.equals(Name.fromString("big.example.test.")) && question.getType() == Type.A) {
            for (int i = 1; i <= 100; i++) {
                r.addRecord(new ARecord(name, DClass.IN, 60, InetAddress.getByName("198.51.100." + i)),
                        Section.ANSWER);
            }
        } else if (name.equals(Name.fromString("4.3.2.1.in-addr.arpa.")) && question.getType() == Type.PTR) {
            r.addRecord(new PTRRecord(name, DClass.IN, 60, Name.fromString("upstream.test.")),
                    Section.ANSWER);
        } else if (!name.subdomain(Name.fromString("example.test."))) {
            r.getHeader().setRcode(Rcode.NXDOMAIN);
        }
        return r;
    }

    @Override
    public void close() throws IOException {
        udp.close();
        tcp.close();
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
