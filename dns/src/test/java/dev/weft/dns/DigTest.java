package dev.weft.dns;

import dev.weft.kvstore.testing.Requires;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server as BIND's {@code dig} sees it. */
class DigTest {
    private static final Pattern COUNTS = Pattern.compile(
            "QUERY: (\\d+), ANSWER: (\\d+), AUTHORITY: (\\d+), ADDITIONAL: (\\d+)");
    private static final Pattern FLAGS = Pattern.compile(";; flags:([a-z ]*);");

    private String dig;
    private DnsServer server;
    private UpstreamServer upstream;

    @BeforeEach
    void start() {
        dig = Requires.command("dig");
        server = DnsServer.start(Fixtures.config().build(), Fixtures.catalog(), new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        if (upstream != null) {
            upstream.close();
        }
    }

    private String dig(InetSocketAddress at, String... args) throws IOException, InterruptedException {
        return DnsClients.dig(dig, at, args);
    }

    private String dig(String... args) throws IOException, InterruptedException {
        return dig(server.udpAddress(), args);
    }

    /** QUERY, ANSWER, AUTHORITY, ADDITIONAL counts of the (last) response shown. */
    private static int[] counts(String out) {
        Matcher m = COUNTS.matcher(out);
        int[] c = null;
        while (m.find()) {
            c = new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4))};
        }
        if (c == null) {
            throw new AssertionError("no header counts in dig output:\n" + out);
        }
        return c;
    }

    private static List<String> flags(String out) {
        Matcher m = FLAGS.matcher(out);
        String f = null;
        while (m.find()) {
            f = m.group(1);
        }
        if (f == null) {
            throw new AssertionError("no flags in dig output:\n" + out);
        }
        return List.of(f.trim().split(" +"));
    }

    private static String section(String out, String name) {
        int start = out.indexOf(";; " + name + " SECTION:");
        if (start < 0) {
            return "";
        }
        int end = out.indexOf("\n\n", start);
        return end < 0 ? out.substring(start) : out.substring(start, end);
    }

    @Test
    void srvWithAdditionalAddresses() throws Exception {
        String out = dig("web.service.weft", "SRV");
        assertTrue(out.contains("status: NOERROR"), out);
        assertEquals(2, counts(out)[1], out);
        assertTrue(flags(out).contains("aa"), out);
        String answer = section(out, "ANSWER");
        assertTrue(answer.matches("(?s).*web\\.service\\.weft\\.\\s+0\\s+IN\\s+SRV\\s+1 1 80 node1\\.node\\.dc1\\.weft\\..*"),
                out);
        String additional = section(out, "ADDITIONAL");
        assertTrue(additional.matches("(?s).*node1\\.node\\.dc1\\.weft\\.\\s+0\\s+IN\\s+A\\s+10\\.0\\.0\\.1.*"), out);
        assertTrue(additional.matches("(?s).*node2\\.node\\.dc1\\.weft\\.\\s+0\\s+IN\\s+A\\s+10\\.0\\.0\\.2.*"), out);
    }

    @Test
    void truncatedOverUdpThenCompleteOverTcp() throws Exception {
        String retried = dig("+noedns", "big.service.weft", "A");
        assertTrue(retried.contains("Truncated, retrying in TCP mode"), retried);
        assertEquals(Fixtures.BIG, counts(retried)[1], retried);
        assertFalse(flags(retried).contains("tc"), retried);

        String ignored = dig("+noedns", "+ignore", "big.service.weft", "A");
        assertTrue(flags(ignored).contains("tc"), ignored);
        int kept = counts(ignored)[1];
        assertTrue(kept > 0 && kept < Fixtures.BIG, ignored);

        String srv = dig("+noedns", "big.service.weft", "SRV");
        assertEquals(Fixtures.BIG, counts(srv)[1], srv);
        assertEquals(Fixtures.BIG, counts(srv)[3], srv);
    }

    @Test
    void edns4096() throws Exception {
        String out = dig("+bufsize=4096", "big.service.weft", "A");
        assertFalse(out.contains("Truncated"), out);
        assertEquals(Fixtures.BIG, counts(out)[1], out);
        assertTrue(out.contains("EDNS: version: 0") && out.contains("udp: 4096"), out);
        assertFalse(flags(out).contains("tc"), out);
    }

    @Test
    void reverseLookup() throws Exception {
        String out = dig("-x", "10.0.0.1");
        assertTrue(out.contains("status: NOERROR"), out);
        assertTrue(section(out, "ANSWER").matches(
                "(?s).*1\\.0\\.0\\.10\\.in-addr\\.arpa\\.\\s+0\\s+IN\\s+PTR\\s+node1\\.node\\.dc1\\.weft\\..*"), out);
    }

    @Test
    void nxdomainWithSoa() throws Exception {
        String out = dig("nosuch.service.weft", "A");
        assertTrue(out.contains("status: NXDOMAIN"), out);
        int[] c = counts(out);
        assertEquals(0, c[1], out);
        assertEquals(1, c[2], out);
        assertTrue(section(out, "AUTHORITY").matches(
                "(?s).*weft\\.\\s+0\\s+IN\\s+SOA\\s+ns\\.weft\\. hostmaster\\.weft\\. \\d+ 3600 600 86400 0.*"), out);
    }

    @Test
    void refusedWithoutRecursors() throws Exception {
        String out = dig("example.com", "A");
        assertTrue(out.contains("status: REFUSED"), out);
        assertFalse(flags(out).contains("ra"), out);
    }

    @Test
    void forwardedToARecursor() throws Exception {
        upstream = new UpstreamServer(UpstreamServer.Mode.TRUNCATE_UDP);
        try (DnsServer forwarding = DnsServer.start(Fixtures.config().addRecursor(upstream.address()).build(),
                Fixtures.catalog(), new SimpleMeterRegistry())) {
            String out = dig(forwarding.udpAddress(), "example.test", "A");
            assertTrue(out.contains("status: NOERROR"), out);
            assertTrue(flags(out).contains("ra"), out);
            assertTrue(section(out, "ANSWER").matches("(?s).*example\\.test\\.\\s+60\\s+IN\\s+A\\s+192\\.0\\.2\\.1.*"),
                    out);
            assertEquals(1, upstream.tcpQueries.get(), "upstream asked again over TCP after its TC answer");
        }
    }

    @Test
    void malformedQueriesLeaveTheServerAnswering() throws Exception {
        // dig can send a query of an unknown opcode and one with an unknown EDNS version
        String opcode = dig("+opcode=15", "web.service.weft", "A");
        assertTrue(opcode.contains("status: NOTIMP"), opcode);
        String badvers = dig("+edns=1", "+noednsnegotiation", "web.service.weft", "A");
        assertTrue(badvers.contains("status: BADVERS"), badvers);
        String ok = dig("web.service.weft", "A");
        assertEquals(2, counts(ok)[1], ok);
    }
}
