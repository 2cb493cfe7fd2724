package dev.weft.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A peer that accepts and never answers: every request ends at its deadline instead of hanging. */
class RequestTimeoutTest {

    @Test
    void aSilentPeerTimesOutWithinTheRequestTimeout() throws IOException {
        Path dir = Files.createTempDirectory("weft-silent-");
        Path sock = dir.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock), 16);
            DockerClient client = DockerClient.connect("unix://" + sock, Duration.ofMillis(300));
            long start = System.nanoTime();
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, client::version);
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertTrue(millis >= 250 && millis < 5_000, millis + " ms");
            assertTrue(e.getMessage().contains("GET /version") && e.getMessage().contains("300 ms"), e.getMessage());
            assertFalse(client.ping());
            try (SocketChannel accepted = server.accept()) {
                assertTrue(accepted.isConnected());
            }
        } finally {
            Files.deleteIfExists(sock);
            Files.delete(dir);
        }
    }
}
