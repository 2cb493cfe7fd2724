package dev.weft.dns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The DNS tests' clients: the real {@code dig}, and one length-prefixed exchange over TCP. */
final class DnsClients {
    private DnsClients() {
    }

    /** {@code dig -r @ADDR -p PORT +time=3 +tries=1 ARGS…}: its output; fails unless it exits 0 within 30 s. */
    static String dig(String dig, InetSocketAddress at, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(dig, "-r", "@" + at.getAddress().getHostAddress(),
                "-p", String.valueOf(at.getPort()), "+time=3", "+tries=1"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("dig did not finish: " + cmd);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "dig exit status\n" + out);
        return out;
    }

    /** Sends one query over a TCP connection (2-byte length prefix) and reads its answer. */
    static byte[] tcpExchange(Socket tcp, byte[] query) throws IOException {
        DataOutputStream out = new DataOutputStream(tcp.getOutputStream());
        out.writeShort(query.length);
        out.write(query);
        out.flush();
        DataInputStream in = new DataInputStream(tcp.getInputStream());
        byte[] r = new byte[in.readUnsignedShort()];
        in.readFully(r);
        return r;
    }
}
