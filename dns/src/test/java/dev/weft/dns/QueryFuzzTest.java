package dev.weft.dns;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of the query path (Jazzer): any bytes, as a UDP datagram and as a TCP frame, through
 * {@link QueryProcessor} against the test catalog (100-instance service included), without recursors.
 * Invariants: it never throws; a packet is dropped only when it is shorter than a header or a response; every
 * answer parses with dnsjava, is a response with the query's ID, never offers recursion, and over UDP is never
 * larger than the query allows (512 without EDNS, else its EDNS size within 512–4096); over TCP never larger than
 * 65535. In {@code ./mvnw verify} only the inputs under {@code QueryFuzzTestInputs/} run; {@code JAZZER_FUZZ=1}
 * fuzzes (see bench/fuzz.sh).
 */
class QueryFuzzTest {
    private static final QueryProcessor PROCESSOR = new QueryProcessor(Fixtures.config().build(),
            Fixtures.catalog(), new DnsMetrics(new SimpleMeterRegistry(), () -> 0, () -> 0), new AnswerCache(4096, Long.MAX_VALUE), null);

    @FuzzTest(maxDuration = "10m")
    void queryPacket(byte[] packet) {
        check(packet, false);
        check(packet, true);
    }

    private static void check(byte[] packet, boolean tcp) {
        ByteBuf in = Unpooled.wrappedBuffer(packet);
        ByteBuf out;
        try {
            out = PROCESSOR.handle(in, tcp, UnpooledByteBufAllocator.DEFAULT, null,
                    later -> fail("nothing is forwarded without recursors"));
        } catch (RuntimeException e) {
            throw new AssertionError("the query path threw", e);
        }
        Query q = Query.decode(Unpooled.wrappedBuffer(packet), tcp);
        if (out == null) {
            assertEquals(Query.Status.DROP, q.status, "only undecodable headers and responses are dropped");
            assertTrue(packet.length < 12 || (packet[2] & 0x80) != 0);
            return;
        }
        byte[] wire = new byte[out.readableBytes()];
        out.readBytes(wire);
        out.release();
        int limit = q.limit();
        assertTrue(wire.length <= limit, (tcp ? "TCP" : "UDP") + " answer of " + wire.length + " bytes > " + limit);
        if (!tcp) {
            assertTrue(wire.length <= DnsLimits.EDNS_PAYLOAD);
            assertTrue(wire.length <= DnsLimits.PLAIN_UDP_LIMIT || q.edns, "more than 512 bytes without EDNS");
        }
        Message m;
        try {
            m = new Message(wire);
        } catch (IOException e) {
            throw new AssertionError("the answer does not parse", e);
        }
        assertTrue(m.getHeader().getFlag(Flags.QR), "a response");
        assertEquals(q.id, m.getHeader().getID());
        assertFalse(m.getHeader().getFlag(Flags.RA), "recursion offered without recursors");
    }
}
