package dev.weft.dns;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CookieOption;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packets written by hand: bad ones are answered FORMERR (or another error) or dropped and the server keeps
 * answering afterwards; and protocol corners (EDNS flags, RD, pipelining) that resolvers do not let us set.
 */
class RawPacketTest {
    private DnsServer server;
    private SimpleMeterRegistry registry;
    private DatagramSocket socket;

    @BeforeEach
    void start() throws IOException {
        registry = new SimpleMeterRegistry();
        server = DnsServer.start(Fixtures.config().build(), Fixtures.catalog(), registry);
        socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        socket.setSoTimeout(5000);
    }

    @AfterEach
    void stop() {
        socket.close();
        server.close();
    }

    private void send(byte[] packet) throws IOException {
        socket.send(new DatagramPacket(packet, packet.length, server.udpAddress()));
    }

    /** Reads responses until the one with {@code id}; every other response must still be a response. */
    private byte[] receive(int id) throws IOException {
        while (true) {
            byte[] buf = new byte[65535];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            socket.receive(p);
            byte[] got = Arrays.copyOf(buf, p.getLength());
            assertTrue(got.length >= 12 && (got[2] & 0x80) != 0, "a DNS response");
            if (((got[0] & 0xFF) << 8 | (got[1] & 0xFF)) == id) {
                return got;
            }
        }
    }

    private static int rcode(byte[] response) {
        return response[3] & 0x0F;
    }

    private static byte[] validQuery(int id) throws IOException {
        return query(id, "web.service.weft.");
    }

    private static byte[] query(int id, String name) throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN));
        q.getHeader().setID(id);
        return q.toWire();
    }

    /** The server still answers a normal query after whatever was sent before. */
    private void assertStillAnswers(int id) throws IOException {
        send(validQuery(id));
        Message m = new Message(receive(id));
        assertEquals(Rcode.NOERROR, m.getRcode());
        assertEquals(2, m.getSection(Section.ANSWER).size());
    }

    private static byte[] header(int id, int flags, int qd, int an, int ns, int ar) {
        return new byte[] {(byte) (id >> 8), (byte) id, (byte) (flags >> 8), (byte) flags, 0, (byte) qd, 0,
            (byte) an, 0, (byte) ns, 0, (byte) ar};
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void randomBytesNeverStopTheServer() throws IOException {
        Random random = new Random(42);
        for (int i = 0; i < 300; i++) {
            byte[] junk = new byte[random.nextInt(600)];
            random.nextBytes(junk);
            send(junk);
        }
        assertStillAnswers(0x4242);
        assertTrue(registry.get("weft.dns.malformed").counter().count() > 0);
    }

    @Test
    void truncatedHeaderIsDropped() throws IOException {
        send(new byte[] {0x12, 0x34, 0x01, 0x00, 0x00});
        send(validQuery(0x1111));
        byte[] buf = new byte[512];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        assertEquals(0x1111, (buf[0] & 0xFF) << 8 | (buf[1] & 0xFF));
        assertEquals(1.0, registry.get("weft.dns.malformed").counter().count());
    }

    @Test
    void noQuestionIsFormErr() throws IOException {
        send(header(0x1234, 0x0100, 0, 0, 0, 0));
        byte[] r = receive(0x1234);
        assertEquals(Rcode.FORMERR, rcode(r));
        assertEquals(12, r.length);
        assertStillAnswers(0x1235);
    }

    @Test
    void twoQuestionsAreFormErr() throws IOException {
        byte[] q = validQuery(0x2000);
        byte[] question = Arrays.copyOfRange(q, 12, q.length);
        send(concat(header(0x2001, 0x0100, 2, 0, 0, 0), question, question));
        assertEquals(Rcode.FORMERR, rcode(receive(0x2001)));
    }

    @Test
    void oversizedLabelsAndNamesAreFormErr() throws IOException {
        // a label length of 200 (not a valid label type)
        byte[] huge = new byte[201];
        huge[0] = (byte) 200;
        Arrays.fill(huge, 1, 201, (byte) 'a');
        send(concat(header(0x3001, 0x0100, 1, 0, 0, 0), huge, new byte[] {0, 0, 1, 0, 1}));
        assertEquals(Rcode.FORMERR, rcode(receive(0x3001)));

        // five 63-byte labels: a name longer than 255 bytes
        ByteArrayOutputStream name = new ByteArrayOutputStream();
        for (int i = 0; i < 5; i++) {
            name.write(63);
            byte[] label = new byte[63];
            Arrays.fill(label, (byte) 'b');
            name.writeBytes(label);
        }
        send(concat(header(0x3002, 0x0100, 1, 0, 0, 0), name.toByteArray(), new byte[] {0, 0, 1, 0, 1}));
        assertEquals(Rcode.FORMERR, rcode(receive(0x3002)));

        // a compression pointer in the question
        send(concat(header(0x3003, 0x0100, 1, 0, 0, 0), new byte[] {(byte) 0xC0, 12, 0, 1, 0, 1}));
        assertEquals(Rcode.FORMERR, rcode(receive(0x3003)));

        // the question runs past the end of the packet
        byte[] q = validQuery(0x3004);
        send(Arrays.copyOf(q, q.length - 3));
        assertEquals(Rcode.FORMERR, rcode(receive(0x3004)));

        // an additional record announced but missing
        byte[] withAr = validQuery(0x3005);
        withAr[11] = 1;
        send(withAr);
        assertEquals(Rcode.FORMERR, rcode(receive(0x3005)));
        assertStillAnswers(0x3006);
    }

    @Test
    void responsesAreDropped() throws IOException {
        byte[] q = validQuery(0x5001);
        q[2] |= (byte) 0x80;
        send(q);
        send(validQuery(0x5002));
        // nothing came back for the response: the first packet received answers the next query
        byte[] buf = new byte[512];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        assertEquals(0x5002, (buf[0] & 0xFF) << 8 | (buf[1] & 0xFF));
    }

    @Test
    void otherOpcodesAreNotImplemented() throws IOException {
        Message update = Message.newUpdate(Name.fromString("weft."));
        update.getHeader().setID(0x6001);
        assertEquals(Opcode.UPDATE, update.getHeader().getOpcode());
        send(update.toWire());
        byte[] r = receive(0x6001);
        assertEquals(Rcode.NOTIMP, rcode(r));
        assertEquals(Opcode.UPDATE, (r[2] >> 3) & 0xF);
    }

    @Test
    void unknownEdnsVersionIsBadVers() throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString("web.service.weft."), Type.A, DClass.IN));
        q.getHeader().setID(0x7001);
        q.addRecord(new OPTRecord(1232, 0, 1, 0), Section.ADDITIONAL);
        send(q.toWire());
        Message r = new Message(receive(0x7001));
        assertEquals(Rcode.BADVERS, r.getRcode());
        assertEquals(0, r.getOPT().getVersion());
    }

    @Test
    void queryWithExtraRecordsAndOptOptionsIsAnswered() throws IOException {
        // EDNS with an option (a client cookie), as dig sends
        Message q = Message.newQuery(Record.newRecord(Name.fromString("web.service.weft."), Type.A, DClass.IN));
        q.getHeader().setID(0x7101);
        q.addRecord(new OPTRecord(1232, 0, 0, 0,
                new CookieOption(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})), Section.ADDITIONAL);
        send(q.toWire());
        Message r = new Message(receive(0x7101));
        assertEquals(Rcode.NOERROR, r.getRcode());
        assertEquals(2, r.getSection(Section.ANSWER).size());
    }

    @Test
    void ednsPayloadBelow512CountsAs512() throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString("big.service.weft."), Type.A, DClass.IN));
        q.getHeader().setID(0x7201);
        q.addRecord(new OPTRecord(100, 0, 0, 0), Section.ADDITIONAL);
        send(q.toWire());
        byte[] r = receive(0x7201);
        assertTrue(r.length <= 512 && r.length > 450, "response of " + r.length + " bytes");
        assertTrue((r[2] & 0x02) != 0, "TC");
    }

    @Test
    void dnssecOkIsEchoedAndCachedSeparately() throws IOException {
        for (int round = 0; round < 2; round++) {
            for (boolean dnssecOk : new boolean[] {true, false}) {
                Message q = Message.newQuery(Record.newRecord(Name.fromString("node1.node.weft."), Type.A,
                        DClass.IN));
                int id = 0x7300 + round * 2 + (dnssecOk ? 1 : 0);
                q.getHeader().setID(id);
                q.addRecord(new OPTRecord(1232, 0, 0, dnssecOk ? ExtendedFlags.DO : 0), Section.ADDITIONAL);
                send(q.toWire());
                Message r = new Message(receive(id));
                assertEquals(dnssecOk ? ExtendedFlags.DO : 0, r.getOPT().getFlags() & ExtendedFlags.DO);
                assertEquals(1, r.getSection(Section.ANSWER).size());
            }
        }
    }

    @Test
    void zoneTransfersAreRefused() throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString("weft."), Type.AXFR, DClass.IN));
        q.getHeader().setID(0x8001);
        try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort())) {
            tcp.setSoTimeout(5000);
            byte[] response = DnsClients.tcpExchange(tcp, q.toWire());
            assertEquals(Rcode.REFUSED, rcode(response));
        }
    }

    @Test
    void tcpJunkClosesOnlyThatConnection() throws IOException {
        try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort())) {
            tcp.setSoTimeout(5000);
            // a 5-byte frame cannot be a query: the connection is closed
            DataOutputStream out = new DataOutputStream(tcp.getOutputStream());
            out.writeShort(5);
            out.write(new byte[] {1, 2, 3, 4, 5});
            out.flush();
            assertThrows(EOFException.class, () -> new DataInputStream(tcp.getInputStream()).readUnsignedShort());
        }
        try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort())) {
            tcp.setSoTimeout(5000);
            // a malformed query gets FORMERR, and the connection keeps serving
            byte[] junk = concat(header(0x9001, 0x0100, 1, 0, 0, 0), new byte[] {(byte) 99, 1, 2});
            assertEquals(Rcode.FORMERR, rcode(DnsClients.tcpExchange(tcp, junk)));
            byte[] ok = DnsClients.tcpExchange(tcp, validQuery(0x9002));
            assertEquals(2, new Message(ok).getSection(Section.ANSWER).size());
            // pipelined queries on one connection
            DataOutputStream out = new DataOutputStream(tcp.getOutputStream());
            for (int id = 0x9010; id < 0x9015; id++) {
                byte[] q = validQuery(id);
                out.writeShort(q.length);
                out.write(q);
            }
            out.flush();
            DataInputStream in = new DataInputStream(tcp.getInputStream());
            for (int id = 0x9010; id < 0x9015; id++) {
                byte[] r = new byte[in.readUnsignedShort()];
                in.readFully(r);
                assertEquals(id, new Message(r).getHeader().getID());
            }
        }
        assertStillAnswers(0x9100);
    }

    @Test
    void responseIdAndRdFollowTheQuery() throws IOException {
        byte[] q = query(0xABCD, "node1.node.weft.");
        q[2] &= (byte) ~0x01;
        send(q);
        byte[] r = receive(0xABCD);
        assertEquals(0, r[2] & 0x01, "RD clear as asked");
        byte[] again = query(0xABCE, "node1.node.weft.");
        send(again);
        byte[] r2 = receive(0xABCE);
        assertEquals(1, r2[2] & 0x01, "RD set as asked");
        assertArrayEquals(Arrays.copyOfRange(r, 12, r.length), Arrays.copyOfRange(r2, 12, r2.length));
    }
}
