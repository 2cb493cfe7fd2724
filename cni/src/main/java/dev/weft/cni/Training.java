package dev.weft.cni;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code weft-cni --training-run}: what the launcher runs once to make a JDK 25+ AOT cache (JEP 483/514). It serves
 * one answer on a unix socket of its own and runs an ADD against it exactly as a runtime's call would, so the cache
 * holds everything a real call loads and links. Prints nothing.
 */
final class Training {
    private Training() {
    }

    /** @return the training ADD's outcome (exit code 0 when its own agent answered) */
    static Main.Outcome run() throws IOException {
        Path dir = Files.createTempDirectory("weft-cni-training");
        Path socket = dir.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread agent = new Thread(() -> answerOnce(server), "weft-cni-training-agent");
            agent.start();
            String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"training\",\"type\":\"weft-cni\",\"agentSocket\":\""
                    + socket + "\"}";
            Main.Outcome outcome = Main.run(Map.of("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "weft-cni-training", "CNI_NETNS",
                    "/proc/self/ns/net", "CNI_IFNAME", "eth0", "CNI_PATH", "/"),
                    config.getBytes(StandardCharsets.UTF_8));
            agent.join(5_000);
            return outcome;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private static void answerOnce(ServerSocketChannel server) {
        try (SocketChannel ch = server.accept()) {
            ByteBuffer in = ByteBuffer.allocate(65536);
            String request = "";
            while (!request.contains("\r\n\r\n") || !complete(request)) {
                if (ch.read(in) < 0) {
                    break;
                }
                request = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            }
            byte[] body = ("{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:42:0a:00:00:02\","
                    + "\"sandbox\":\"/proc/self/ns/net\"}],\"ips\":[{\"address\":\"10.0.0.2/24\",\"gateway\":"
                    + "\"10.0.0.1\",\"interface\":0}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\"}],"
                    + "\"dns\":{\"nameservers\":[\"10.0.0.1\"]}}").getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n";
            ByteBuffer out = ByteBuffer.allocate(head.length() + body.length);
            out.put(head.getBytes(StandardCharsets.ISO_8859_1)).put(body).flip();
            while (out.hasRemaining()) {
                ch.write(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean complete(String request) {
        int end = request.indexOf("\r\n\r\n");
        long length = Main.contentLength(request.substring(0, end));
        return length < 0 || request.length() >= end + 4 + length;
    }
}
