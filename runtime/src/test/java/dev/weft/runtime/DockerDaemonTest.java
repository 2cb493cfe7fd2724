package dev.weft.runtime;

import dev.weft.runtime.testing.DockerDaemon;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture itself: isolated from the machine while it runs, and no trace once closed. */
class DockerDaemonTest {

    @Test
    void isolatedWhileRunningAndGoneAfterClose() throws IOException {
        boolean docker0Before = Files.exists(Path.of("/sys/class/net/docker0"));
        DockerDaemon d = DockerDaemon.start();
        String bridge = d.bridge();
        Path dir = Path.of(d.host().substring("unix://".length())).getParent();
        long pid = d.pid();
        int port;
        try {
            assertTrue(d.host().startsWith("unix:///tmp/wftd-"), d.host());
            assertTrue(bridge.matches("wftd[0-9a-f]{4}"), bridge);
            assertTrue(Files.exists(Path.of("/sys/class/net", bridge)));
            assertEquals(docker0Before, Files.exists(Path.of("/sys/class/net/docker0")), "docker0 appeared");

            String id = d.run("-p", "8080", d.image(), "httpd", "-f", "-p", "8080");
            // even without an address in -p, --ip 127.0.0.1 keeps published ports on loopback
            String binding = d.output("port", id, "8080/tcp").strip();
            assertTrue(binding.startsWith("127.0.0.1:"), binding);
            port = Integer.parseInt(binding.substring(binding.lastIndexOf(':') + 1));
            assertTrue(d.output("ps", "-q", "--no-trunc").contains(id));
        } finally {
            d.close();
        }
        assertFalse(Files.exists(Path.of("/sys/class/net", bridge)), "bridge " + bridge + " left behind");
        assertFalse(Files.exists(dir), dir + " left behind");
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "dockerd " + pid + " alive");
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(dir.toString()), "mounts left");
        assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close());
        d.close(); // idempotent
    }
}
