package dev.weft.agent.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** One HTTP/1.1 POST over a unix socket (as Docker calls a plugin), one connection per call; must answer 200. */
final class UnixHttp {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UnixHttp() {
    }

    static JsonNode post(Path socket, String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
            out.put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (ch.read(buf) >= 0) {
                in.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            String reply = in.toString(StandardCharsets.UTF_8);
            int split = reply.indexOf("\r\n\r\n");
            if (!reply.startsWith("HTTP/1.1 200") || split < 0) {
                throw new AssertionError(path + " answered: " + reply);
            }
            return JSON.readTree(reply.substring(split + 4));
        } catch (IOException e) {
            throw new UncheckedIOException(path + " on " + socket, e);
        }
    }
}
