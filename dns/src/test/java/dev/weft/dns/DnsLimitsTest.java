package dev.weft.dns;

import dev.weft.kvstore.testing.Requires;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.GenericEDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.time.Duration;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DNS limits of {@link DnsLimits} and the per-client rate limit against a real server on 127.0.0.1: UDP
 * answers never larger than the query allows (checked with dig's own size report), oversized queries refused
 * over UDP and TCP, and the rate limit (UDP dropped, TCP REFUSED, per client address).
 */
class DnsLimitsTest {
    /** The configuration every case starts from; {@link BlockingUdpDnsLimitsTest} serves UDP from plain sockets. */
    DnsConfig.Builder config() {
        return Fixtures.config();
    }

    private static final Pattern SIZE = Pattern.compile("MSG SIZE\\s+rcvd: (\\d+)");
    private static final Pattern FLAGS = Pattern.compile(";; flags:([a-z ]*);");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private DnsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private DnsServer start(DnsConfig.Builder config) {
        server = DnsServer.start(config.build(), Fixtures.catalog(), registry);
        return server;
    }

    /** dig against the server's UDP address; {@code +ignore}: a truncated answer is shown as it came. */
    private String dig(String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("+ignore"));
        all.addAll(List.of(args));
        return DnsClients.dig(Requires.command("dig"), server.udpAddress(), all.toArray(String[]::new));
    }

    private static int size(String digOutput) {
        Matcher m = SIZE.matcher(digOutput);
        assertTrue(m.find(), digOutput);
        return Integer.parseInt(m.group(1));
    }

    private static boolean truncated(String digOutput) {
        Matcher m = FLAGS.matcher(digOutput);
        assertTrue(m.find(), digOutput);
        return Arrays.asList(m.group(1).trim().split(" ")).contains("tc");
    }

    @Test
    void udpAnswersFitTheRequestorsSize() throws Exception {
        start(config());
        // 100 instances: about 1.7 KB of A records, more of SRV
        String[][] cases = {
            {"+noedns", "512"}, {"+bufsize=100", "512"}, {"+bufsize=512", "512"}, {"+bufsize=1232", "1232"},
            {"+bufsize=1400", "1400"}, {"+bufsize=65000", "4096"},
        };
        for (String[] c : cases) {
            int limit = Integer.parseInt(c[1]);
            for (String type : List.of("A", "SRV")) {
                String out = dig(c[0], "big.service.weft", type);
                assertTrue(size(out) <= limit, c[0] + " " + type + ": " + size(out) + " > " + limit + "\n" + out);
                assertTrue(out.contains("status: NOERROR"), out);
            }
        }
        String small = dig("+noedns", "big.service.weft", "A");
        assertTrue(truncated(small), "TC when answers were left out\n" + small);
        String big = dig("+bufsize=4096", "big.service.weft", "A");
        assertFalse(truncated(big), "everything fits 4096\n" + big);
        String srv = dig("+bufsize=1232", "big.service.weft", "SRV");
        assertTrue(truncated(srv), "100 SRV records do not fit 1232\n" + srv);
        assertTrue(registry.get("weft.dns.truncated").counter().count() >= 2);
    }

    @Test
    void otherNamesAreRefusedWithoutRecursors() throws Exception {
        start(config());
        String out = dig("+rec", "example.com", "A");
        assertTrue(out.contains("status: REFUSED"), out);
        Matcher m = FLAGS.matcher(out);
        assertTrue(m.find(), out);
        assertFalse(m.group(1).contains("ra"), "no recursion available\n" + out);
    }

    /** A query for web.service.weft padded with an EDNS option to exactly {@code size} bytes. */
    private static byte[] paddedQuery(int id, int size) throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString("web.service.weft."), Type.A, DClass.IN));
        q.getHeader().setID(id);
        int bare = q.toWire().length + 11 + 4; // OPT record + option header
        List<EDNSOption> options = List.of(new GenericEDNSOption(65001, new byte[size - bare]));
        q.addRecord(new OPTRecord(1232, 0, 0, 0, options), Section.ADDITIONAL);
        byte[] wire = q.toWire();
        assertEquals(size, wire.length);
        return wire;
    }

    private double counter(String name) {
        return registry.get(name).counter().count();
    }

    private double count(String name, String tagValue) {
        return tagValue == null ? counter(name) : registry.get(name).tag("transport", tagValue).counter().count();
    }

    private void awaitCount(String name, String tagValue, double n) {
        dev.weft.kvstore.testing.Poll.until(Duration.ofSeconds(10),
                () -> name + " " + tagValue + " at " + n + " (is " + count(name, tagValue) + ")",
                () -> count(name, tagValue) >= n);
    }

    @Test
    void oversizedQueriesAreRefused() throws Exception {
        start(config());
        try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            udp.setSoTimeout(5000);
            byte[] max = paddedQuery(1, DnsLimits.MAX_QUERY_BYTES);
            udp.send(new DatagramPacket(max, max.length, server.udpAddress()));
            byte[] buf = new byte[65535];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            udp.receive(p);
            assertEquals(Rcode.NOERROR, new Message(Arrays.copyOf(buf, p.getLength())).getRcode(),
                    "a query of exactly the limit is answered");

            byte[] over = paddedQuery(2, DnsLimits.MAX_QUERY_BYTES + 1);
            udp.send(new DatagramPacket(over, over.length, server.udpAddress()));
            awaitCount("weft.dns.oversized", null, 1);
            udp.setSoTimeout(200);
            try {
                udp.receive(p);
                throw new AssertionError("an oversized query was answered");
            } catch (SocketTimeoutException expected) {
                // dropped
            }
        }
        try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort())) {
            tcp.setSoTimeout(5000);
            DataOutputStream out = new DataOutputStream(tcp.getOutputStream());
            out.writeShort(DnsLimits.MAX_QUERY_BYTES + 1); // only the length prefix: the frame is never sent
            out.flush();
            assertEquals(-1, tcp.getInputStream().read(), "the connection is closed at the length prefix");
        }
        awaitCount("weft.dns.oversized", null, 2);
        try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort())) {
            tcp.setSoTimeout(5000);
            byte[] max = paddedQuery(3, DnsLimits.MAX_QUERY_BYTES);
            assertEquals(Rcode.NOERROR, new Message(DnsClients.tcpExchange(tcp, max)).getRcode());
        }
    }

    private static byte[] query(int id) throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString("web.service.weft."), Type.A, DClass.IN));
        q.getHeader().setID(id);
        return q.toWire();
    }

    @Test
    void rateLimitDropsUdpAndRefusesTcpPerClientAddress() throws Exception {
        start(config().rateLimit(2));
        int sent = 20;
        try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            long started = System.nanoTime();
            for (int i = 0; i < sent; i++) {
                byte[] q = query(100 + i);
                udp.send(new DatagramPacket(q, q.length, server.udpAddress()));
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            // at 2/s with a burst of 2, at most 2 + 2 * elapsed are answered; every other one is dropped
            int allowed = 2 + (int) Math.ceil(2 * (seconds + 1));
            awaitCount("weft.dns.rate.limited", "udp", sent - allowed);
            udp.setSoTimeout(300);
            int answered = 0;
            byte[] buf = new byte[4096];
            try {
                while (true) {
                    udp.receive(new DatagramPacket(buf, buf.length));
                    answered++;
                }
            } catch (SocketTimeoutException done) {
                // no more answers
            }
            double limited = registry.get("weft.dns.rate.limited").tag("transport", "udp").counter().count();
            assertTrue(answered >= 1 && answered <= allowed, answered + " answers");
            assertEquals(sent, answered + (int) limited, "every query is answered or counted as limited");
        }

        // another client address has its own bucket
        try (DatagramSocket other = new DatagramSocket(0, InetAddress.getByName("127.0.0.2"))) {
            other.setSoTimeout(5000);
            byte[] q = query(7);
            other.send(new DatagramPacket(q, q.length, server.udpAddress()));
            byte[] buf = new byte[4096];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            other.receive(p);
            assertEquals(Rcode.NOERROR, new Message(Arrays.copyOf(buf, p.getLength())).getRcode());
        }

        // TCP (from 127.0.0.3, a fresh bucket): over the limit the answer is REFUSED, not silence
        try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort(),
                InetAddress.getByName("127.0.0.3"), 0)) {
            tcp.setSoTimeout(5000);
            int refused = 0;
            for (int i = 0; i < 6; i++) {
                Message r = new Message(DnsClients.tcpExchange(tcp, query(200 + i)));
                assertEquals(200 + i, r.getHeader().getID());
                if (r.getRcode() == Rcode.REFUSED) {
                    refused++;
                    assertEquals(0, r.getHeader().getCount(Section.ANSWER));
                }
            }
            assertTrue(refused >= 2, refused + " REFUSED of 6");
            assertTrue(registry.get("weft.dns.rate.limited").tag("transport", "tcp").counter().count() >= 2);
        }
    }

    @Test
    void noRateLimitByDefault() throws Exception {
        start(config());
        try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            udp.setSoTimeout(5000);
            byte[] buf = new byte[4096];
            for (int i = 0; i < 50; i++) {
                byte[] q = query(300 + i);
                udp.send(new DatagramPacket(q, q.length, server.udpAddress()));
                udp.receive(new DatagramPacket(buf, buf.length));
            }
        }
        assertEquals(0.0, registry.get("weft.dns.rate.limited").tag("transport", "udp").counter().count());
    }
}
