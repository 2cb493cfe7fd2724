package dev.weft.runtime;

import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same client against Podman's Docker-compatible socket ({@code podman system service}), with all of
 * podman's state in a temp directory and containers on {@code --network none} (no interfaces, no firewall).
 * Needs podman (installed by .ci/run): skips without it, fails without it when CI=true.
 */
@SuppressWarnings("try") // subscriptions are closed by try-with-resources without being referenced
class PodmanTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static Path dir;
    private static String podman;
    private static Process service;
    private static DockerClient client;

    @BeforeAll
    static void startPodman() throws IOException {
        podman = Requires.command("podman"); // .ci/run installs it: CI never skips this

        Requires.root();
        Requires.that(Files.isExecutable(Path.of("/bin/busybox")), "/bin/busybox (busybox-static) for the image");
        dir = Files.createTempDirectory(Path.of("/tmp"), "wftp-");
        Path sock = dir.resolve("podman.sock");
        service = new ProcessBuilder(podman(List.of("system", "service", "--time", "0", "unix://" + sock)))
                .redirectErrorStream(true).redirectOutput(dir.resolve("service.log").toFile()).start();
        client = DockerClient.connect("unix://" + sock);
        Poll.until(WAIT, () -> "podman system service to answer /_ping", () -> {
            if (!service.isAlive()) {
                throw new AssertionError("podman system service exited: "
                        + Files.readString(dir.resolve("service.log")));
            }
            return client.ping();
        });
        Path rootfs = dir.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "sleep", "true")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        cli(List.of("tar", "-C", rootfs.toString(), "-cf", dir.resolve("rootfs.tar").toString(), "."));
        cli(podman(List.of("import", "-c", "CMD [\"/bin/sh\"]", dir.resolve("rootfs.tar").toString(),
                "weft-test/busybox")));
    }

    @AfterAll
    static void stopPodman() throws Exception {
        if (client != null) {
            client.close();
        }
        if (service != null) {
            try {
                cli(podman(List.of("rm", "-f", "-a", "-t", "0")));
            } finally {
                service.destroy();
                if (!service.waitFor(30, TimeUnit.SECONDS)) {
                    service.destroyForcibly();
                    service.waitFor(30, TimeUnit.SECONDS);
                }
            }
        }
        if (dir != null) {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String point = line.split(" ")[4];
                if (point.startsWith(dir + "/")) {
                    new ProcessBuilder("umount", "-l", point).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
                }
            }
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    @Test
    void versionListInspectAndEventsThroughPodmansCompatSocket() throws IOException {
        assertTrue(client.ping());
        ContainerRuntime.RuntimeVersion v = client.version();
        assertEquals("linux", v.os());
        assertTrue(ApiVersion.parse(v.negotiatedApiVersion()).compareTo(ApiVersion.parse(DockerClient.MAX_API_VERSION))
                <= 0, v.toString());

        List<ContainerEvent> events = new CopyOnWriteArrayList<>();
        List<String> log = new CopyOnWriteArrayList<>();
        try (ContainerRuntime.Subscription ignored = client.subscribe(new ContainerRuntime.EventListener() {
            @Override
            public void onConnected() {
                log.add("connected");
            }

            @Override
            public void onEvent(ContainerEvent event) {
                events.add(event);
            }

            @Override
            public void onDisconnected(Throwable cause, long retryInMillis) {
                log.add("disconnected " + cause);
            }
        })) {
            Poll.until(WAIT, () -> "the event stream to connect; " + log, () -> log.contains("connected"));
            String name = "pod-" + Long.toHexString(System.nanoTime());
            String id = cli(podman(List.of("run", "-d", "--name", name, "--network", "none",
                    "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "-e", "A=1", "-l", "weft.x=y",
                    "weft-test/busybox", "sleep", "600"))).strip();
            Poll.until(WAIT, () -> "a start event of " + id + "; got " + events, () -> events.stream()
                    .anyMatch(e -> e.containerId().equals(id) && e.action().equals("start") && e.name().equals(name)));

            assertTrue(client.runningContainerIds().contains(id));
            Container c = client.inspect(id).orElseThrow();
            assertEquals(name, c.name());
            assertTrue(c.running());
            assertEquals("1", c.env().get("A"));
            assertEquals(Map.of("weft.x", "y"), c.labels());
            assertEquals("none", c.networkMode());

            cli(podman(List.of("rm", "-f", "-t", "0", id)));
            Poll.until(WAIT, () -> "inspect of the removed " + id + " to be empty",
                    () -> client.inspect(id).isEmpty());
            assertTrue(!client.runningContainerIds().contains(id));
            assertEquals(List.of("connected"), log);
        }
    }

    private static List<String> podman(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(podman,
                "--root", dir.resolve("root").toString(), "--runroot", dir.resolve("run").toString(),
                "--tmpdir", dir.resolve("tmp").toString(), "--network-config-dir", dir.resolve("net").toString(),
                "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--storage-driver", "vfs"));
        cmd.addAll(args);
        return cmd;
    }

    private static String cli(List<String> cmd) {
        try {
            Path out = Files.createTempFile("wftp-cmd-", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", cmd) + ": no exit within 120 s");
                }
                String text = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new AssertionError(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + text);
                }
                String[] lines = text.strip().split("\n");
                return lines[lines.length - 1];
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
