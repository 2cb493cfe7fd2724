package dev.weft.runtime;

import dev.weft.kvstore.testing.Requires;
import dev.weft.runtime.testing.NamespacedDockerd;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulated-host fixture: a dockerd inside a network namespace the test created ({@code wftrd} + 6 hex), its
 * containers running, nothing of it in the machine's namespaces, and no trace once closed.
 */
class NamespacedDockerdTest {

    @Test
    void runsInsideItsNamespaceAndLeavesNothing() throws Exception {
        Requires.root();
        String ip = Requires.command("ip");
        String ns = "wftrd" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
        Path nsFile = Path.of("/run/netns", ns);
        Set<String> hostLinksBefore = hostLinks();
        String ownNet = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        String ownMnt = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        Path pluginDir = Files.createTempDirectory("wftrd-plugins-");
        command(ip, "netns", "add", ns);
        try {
            NamespacedDockerd d = NamespacedDockerd.start(nsFile, pluginDir);
            long pid = d.pid();
            Path dir = d.dir();
            String mnt = d.mountNamespace();
            List<Long> helpers;
            try {
                assertTrue(d.host().startsWith("unix:///tmp/wftn-"), d.host());
                assertEquals(pluginDir.toAbsolutePath(), d.pluginDir());
                assertEquals(Long.toString(pid), Files.readString(dir.resolve("docker.pid")).strip(),
                        "pid() is dockerd's own PID (nsenter, unshare and sh exec into it)");
                assertEquals("net:[" + Files.getAttribute(nsFile, "unix:ino") + "]",
                        Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString(),
                        "dockerd runs in the given network namespace");
                assertNotEquals(ownMnt, mnt, "dockerd has a mount namespace of its own");
                Files.writeString(pluginDir.resolve("marker"), "x");
                assertTrue(Files.exists(Path.of("/proc", Long.toString(pid), "root/run/docker/plugins/marker")),
                        "the plugin directory is dockerd's /run/docker/plugins");

                String id = d.run("--network", "none", d.image(), "sleep", "300");
                assertEquals("true", d.output("inspect", "-f", "{{.State.Running}}", id).strip());
                String containerNet = Files.readSymbolicLink(d.containerNetns(id)).toString();
                assertNotEquals(ownNet, containerNet);

                // nothing of docker in the machine's namespaces: no new links (other weft fixtures' wf* aside), no
                // mounts of its data-root in ours
                Set<String> appeared = new TreeSet<>(hostLinks());
                appeared.removeAll(hostLinksBefore);
                appeared.removeIf(n -> n.startsWith("wf"));
                assertEquals(Set.of(), appeared, "links that appeared in the host namespace");
                assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(dir.toString()),
                        "dockerd's mounts are visible in the test's mount namespace");
                // and in the simulated host only its loopback: --bridge=none, --network none
                assertEquals(List.of("lo"), nsLinks(ip, ns));

                helpers = processesIn(mnt);
                assertTrue(helpers.size() >= 3, "dockerd, containerd and the container's shim in " + mnt
                        + ": " + helpers);
            } finally {
                d.close();
            }
            assertFalse(running(pid), "dockerd " + pid + " alive");
            for (long p : helpers) {
                assertFalse(running(p), "process " + p + " of dockerd's mount namespace alive");
            }
            assertEquals(List.of(), processesIn(mnt), "processes left in dockerd's mount namespace");
            assertFalse(Files.exists(dir), dir + " left behind");
            assertTrue(Files.isDirectory(pluginDir), "the plugin directory is the caller's");
            assertEquals(List.of("lo"), nsLinks(ip, ns));
            d.close(); // idempotent
        } finally {
            command(ip, "netns", "del", ns);
            try (Stream<Path> files = Files.list(pluginDir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(pluginDir);
        }
        assertFalse(Files.exists(nsFile), nsFile + " left behind");
    }

    /** Exists and is not a zombie (an ended shim waits for the machine's init to reap it). */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException gone) {
            return false;
        }
    }

    private static Set<String> hostLinks() throws IOException {
        try (Stream<Path> links = Files.list(Path.of("/sys/class/net"))) {
            return links.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static List<String> nsLinks(String ip, String ns) throws Exception {
        List<String> names = new ArrayList<>();
        for (String line : command(ip, "-n", ns, "-o", "link", "show").split("\n")) {
            String[] f = line.split(":\\s+");
            if (f.length > 1) {
                names.add(f[1].replaceFirst("@.*", ""));
            }
        }
        return names;
    }

    private static List<Long> processesIn(String mountNamespace) {
        return ProcessHandle.allProcesses().map(ProcessHandle::pid).filter(pid -> {
            try {
                return mountNamespace.equals(
                        Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "mnt")).toString());
            } catch (IOException gone) {
                return false;
            }
        }).toList();
    }

    private static String command(String... cmd) throws Exception {
        Path out = Files.createTempFile("wftrd-", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(Arrays.toString(cmd) + ": no exit within 30 s");
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), () -> Arrays.toString(cmd) + ": " + output);
            return output;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
