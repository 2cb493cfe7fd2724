package dev.weft.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.testing.Requires;
import dev.weft.net.cni.CniServer;
import dev.weft.net.cni.CniSettings;
import dev.weft.net.control.TestStore;
import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.TestHosts;
import dev.weft.net.netlink.Commands;
import dev.weft.net.netlink.NetlinkClient;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The tests' world: a real single-member Raft store on 127.0.0.1, simulated hosts (namespaces {@code wftcn} + 6 hex
 * + {@code hN}, each with an underlay veth on a bridge in a namespace of its own, its {@link HostNetworks} and a
 * {@link CniServer} on a socket of its own), container namespaces, and the {@code weft-cni} executable installed as
 * an operator would: the launcher script and a jar of {@code target/classes} side by side in {@code dist/}, the
 * script symlinked into {@code bin/} (the CNI_PATH). Everything is removed by {@link #close()}, in reverse order,
 * also after a failure. Nothing is created in the host's own namespace.
 */
final class CniLab implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final String prefix = "wftcn" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    private final Path dir;
    private final String ip;
    private final List<AutoCloseable> cleanup = new ArrayList<>();
    private final RaftStore store;
    private final Path exe;
    private Path wan;
    private NetlinkClient wanNl;

    /** A simulated host. */
    record Host(int number, Path ns, NetlinkClient netlink, HostNetworks networks, Path socket) {
    }

    /** What an invocation printed and its exit code. */
    record Run(int exit, String stdout, String stderr) {
        JsonNode json() {
            try {
                return JSON.readTree(stdout);
            } catch (IOException e) {
                throw new AssertionError("not JSON: '" + stdout + "' (stderr: " + stderr + ")", e);
            }
        }

        @Override
        public String toString() {
            return "exit " + exit + ", stdout " + stdout + ", stderr " + stderr;
        }
    }

    private CniLab(Path dir, String ip) {
        this.dir = dir;
        this.ip = ip;
        try {
            this.exe = install(dir.resolve("opt"));
            store = TestStore.start(dir.resolve("raft"));
            cleanup.add(store);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Skips (fails with CI=true) without root and {@code ip}. */
    static CniLab start(Path dir) {
        Requires.that(Commands.isRoot(), "root (network namespaces)");
        return new CniLab(dir, Requires.command("ip"));
    }

    Path executable() {
        return exe;
    }

    /**
     * Installs the executable: {@code dist/weft-cni} (the launcher, copied) and {@code dist/weft-cni.jar} (a jar of
     * {@code target/classes} with the launcher's main class), and {@code bin/weft-cni} → {@code ../dist/weft-cni}.
     *
     * @return {@code bin/weft-cni}
     */
    static Path install(Path root) {
        try {
            Path dist = Files.createDirectories(root.resolve("dist"));
            Path bin = Files.createDirectories(root.resolve("bin"));
            Files.copy(Path.of("weft-cni"), dist.resolve("weft-cni"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES);
            Manifest m = new Manifest();
            m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
            m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "dev.weft.cni.Main");
            Path classes = Path.of("target/classes");
            try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(dist.resolve("weft-cni.jar")), m);
                 Stream<Path> files = Files.walk(classes)) {
                for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                    jar.putNextEntry(new JarEntry(classes.relativize(p).toString()));
                    Files.copy(p, jar);
                    jar.closeEntry();
                }
            }
            Path link = bin.resolve("weft-cni");
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of("../dist/weft-cni"));
            return link;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A namespace of the lab's own: {@code /var/run/netns/<prefix><suffix>}, deleted at close. */
    Path namespace(String suffix) {
        String name = prefix + suffix;
        Commands.run(ip, "netns", "add", name);
        cleanup.add(() -> Commands.run(ip, "netns", "del", name));
        return Path.of("/var/run/netns", name);
    }

    /** {@code ip -n <namespace> ARGS…}. */
    String ip(Path ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip, "-n", ns.getFileName().toString()));
        cmd.addAll(List.of(args));
        return Commands.run(cmd.toArray(String[]::new));
    }

    private NetlinkClient client(Path ns) {
        NetlinkClient c = NetlinkClient.openIn(ns);
        cleanup.add(c);
        return c;
    }

    /** Simulated host {@code n}: underlay 192.168.216.n/24 on the shared underlay bridge, its CNI server. */
    Host host(int n) {
        if (wan == null) {
            wan = namespace("w");
            wanNl = client(wan);
            wanNl.setUp("lo");
            wanNl.createBridge("wan0");
            wanNl.setUp("wan0");
        }
        Path ns = namespace("h" + n);
        NetlinkClient nl = client(ns);
        Inet4Address underlay = TestStore.ip("192.168.216." + n);
        TestHosts.wire(nl, wan, wanNl, n, underlay);
        HostNetworks networks = TestHosts.networks(store, dir, prefix + "h" + n, underlay, nl, ns, cleanup);
        CniServer server = CniServer.start(new CniSettings(dir.resolve("h" + n + "/cni.sock"), List.of("10.0.0.53"),
                List.of("weft.local")), networks);
        cleanup.add(server);
        return new Host(n, ns, nl, networks, server.socket());
    }

    /** Runs the executable as a runtime does: {@code CNI_*} in the environment, {@code config} on stdin. */
    Run cni(Host h, String command, String containerId, Path netns, String ifName, String config) {
        return run(Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", containerId,
                "CNI_NETNS", netns == null ? "" : netns.toString(), "CNI_IFNAME", ifName,
                "CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=x", "CNI_PATH", exe.getParent().toString(),
                "WEFT_CNI_SOCKET", h == null ? dir.resolve("nobody.sock").toString() : h.socket().toString()),
                config);
    }

    /** Runs the executable with exactly this environment (and PATH, JAVA_HOME) and stdin. */
    Run run(Map<String, String> env, String stdin) {
        return invoke(exe, env, stdin);
    }

    static Run invoke(Path exe, Map<String, String> env, String stdin) {
        ProcessBuilder pb = new ProcessBuilder(exe.toString());
        Map<String, String> e = pb.environment();
        String path = e.get("PATH");
        String javaHome = e.get("JAVA_HOME");
        e.clear();
        e.put("PATH", path != null ? path : "/usr/bin:/bin");
        if (javaHome != null) {
            e.put("JAVA_HOME", javaHome);
        }
        e.putAll(env);
        try {
            Process p = pb.start();
            CompletableFuture<String> out = Commands.readInBackground(p.getInputStream());
            CompletableFuture<String> err = Commands.readInBackground(p.getErrorStream());
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("weft-cni " + env.get("CNI_COMMAND") + " did not finish in 60 s");
            }
            return new Run(p.exitValue(), out.join().trim(), err.join().trim());
        } catch (IOException e1) {
            throw new UncheckedIOException(e1);
        } catch (InterruptedException e1) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e1);
        }
    }

    @Override
    public synchronized void close() {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception | AssertionError e) {
                System.err.println("cleanup: " + e);
            }
        }
        cleanup.clear();
    }
}
