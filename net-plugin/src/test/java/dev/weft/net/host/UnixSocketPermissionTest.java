package dev.weft.net.host;

import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The local plugin sockets (Docker's {@code <dir>/docker/plugins/weft.sock} and weft-cni's {@code <dir>/weft/cni.sock},
 * both a {@link UnixHttpServer}) as another user meets them: mode 0600 owned by root from the moment they appear,
 * so uid 65534 cannot connect ({@code setpriv … curl --unix-socket}) while root can; and should the mode ever be
 * widened, the peer-credential check still answers that user 403. Runs as root (skips elsewhere, fails in CI).
 */
class UnixSocketPermissionTest {
    private static final String NOBODY = "65534";

    private Path root;
    private UnixHttpServer server;

    @BeforeEach
    void setUp() throws IOException {
        Requires.root();
        Requires.command("setpriv");
        Requires.command("curl");
        // traversable by everyone, so that only the socket's own mode decides
        root = Files.createTempDirectory(Path.of("/tmp"), "wsock");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private record Run(int exit, String out) {
    }

    private Run curl(boolean asNobody, Path socket) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (asNobody) {
            cmd.addAll(List.of(Requires.command("setpriv"), "--reuid=" + NOBODY, "--regid=" + NOBODY,
                    "--clear-groups"));
        }
        cmd.addAll(List.of(Requires.command("curl"), "-sS", "--max-time", "10", "--unix-socket", socket.toString(),
                "-X", "POST", "-d", "{}", "-w", "\n%{http_code}", "http://localhost/ping"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("curl did not finish: " + cmd);
        }
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static UnixHttpServer.Handler pong() {
        return new UnixHttpServer.Handler() {
            @Override
            public UnixHttpServer.Reply handle(String path, byte[] body) {
                return new UnixHttpServer.Reply(200, "pong".getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public UnixHttpServer.Reply error(int status, String message) {
                return new UnixHttpServer.Reply(status, message.getBytes(StandardCharsets.UTF_8));
            }
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"docker/plugins/weft.sock", "weft/cni.sock"})
    void onlyRootConnects(String relative) throws Exception {
        Path socket = root.resolve(relative);
        Files.createDirectories(socket.getParent());
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(socket, "stale"); // a stale file is replaced
        server = UnixHttpServer.start(relative.startsWith("docker") ? "docker" : "cni", socket, "text/plain", 1,
                pong());

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals(0, Files.getAttribute(socket, "unix:uid"));
        assertTrue(Files.readAttributes(socket, BasicFileAttributes.class).isOther(), "a socket, not the stale file");
        try (Stream<Path> left = Files.list(socket.getParent())) {
            assertEquals(List.of(socket), left.toList(), "no private bind directory is left behind");
        }

        Run asRoot = curl(false, socket);
        assertEquals(0, asRoot.exit(), asRoot.out());
        assertEquals("pong\n200", asRoot.out());

        Run asNobody = curl(true, socket);
        assertEquals(7, asNobody.exit(), "curl: couldn't connect\n" + asNobody.out());
        assertTrue(asNobody.out().contains("Permission denied") || asNobody.out().contains("Couldn't connect"),
                asNobody.out());

        // Should the mode ever be widened, the peer's credentials still decide.
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        Run widened = curl(true, socket);
        assertEquals(0, widened.exit(), widened.out());
        assertTrue(widened.out().endsWith("\n403"), widened.out());
        assertTrue(widened.out().contains("serves only uid 0, not uid 65534"), widened.out());
        assertFalse(widened.out().contains("pong"));
        assertEquals("pong\n200", curl(false, socket).out(), "root is still served");
    }
}
