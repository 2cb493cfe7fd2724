package dev.weft.runtime.testing;

import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import dev.weft.runtime.DockerClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A private dockerd for tests, isolated from the machine's own Docker: its own data-root, exec-root, pidfile,
 * config file and socket under a fresh {@code /tmp/wftd-…} directory, its own containerd (and containerd
 * namespace), and its own bridge {@code wftdXXXX} with a private /24 that no route of the host covers, created
 * here and removed in {@link #close()}. It runs with {@code --iptables=false --ip6tables=false --ip-masq=false
 * --ip-forward=false} (no docker0, no firewall rules, no sysctls) and {@code --ip 127.0.0.1}, so published ports
 * listen on loopback only (docker-proxy forwards them to the container on the bridge).
 * <p>
 * The test image {@link #IMAGE} (busybox-static: sh, httpd, nc, …) is imported once per daemon. Needs root,
 * {@code dockerd}, {@code docker}, {@code ip} and a static {@code /bin/busybox}: skips without them, fails
 * with {@code CI=true}. Containers run on the default bridge; user-defined bridge networks would add
 * {@code br-…} bridges to the host namespace, so tests should not create them.
 */
public final class DockerDaemon implements AutoCloseable {
    public static final String IMAGE = "weft-test/busybox";
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "httpd", "nc", "ip", "ping", "true", "false", "sleep",
            "cat", "echo", "wget", "ls", "kill", "env", "hostname");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(120);

    private final String dockerd;
    private final String docker;
    private final String ip;
    private final Path dir;
    private final String bridge;
    private String subnet = "";
    private String gateway = "";
    private boolean bridgeCreated;
    private Process process;
    private boolean closed;
    private final Thread shutdownHook = new Thread(this::closeQuietly, "docker-daemon-teardown");

    private DockerDaemon(String dockerd, String docker, String ip, Path dir, String bridge) {
        this.dockerd = dockerd;
        this.docker = docker;
        this.ip = ip;
        this.dir = dir;
        this.bridge = bridge;
    }

    /** Starts a private dockerd and imports the test image; skips (or fails in CI) when the machine lacks one. */
    public static DockerDaemon start() {
        Requires.root();
        String dockerd = Requires.command("dockerd");
        String docker = Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker" : Requires.command("docker");
        String ip = Requires.command("ip");
        Requires.that(Files.isExecutable(BUSYBOX) && isStaticElf(BUSYBOX),
                "a static /bin/busybox (Debian package busybox-static) for the test image");
        Path dir;
        try {
            dir = Files.createTempDirectory(Path.of("/tmp"), "wftd-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String bridge;
        do {
            bridge = "wftd" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
        } while (Files.exists(Path.of("/sys/class/net", bridge)));
        DockerDaemon d = new DockerDaemon(dockerd, docker, ip, dir, bridge);
        Runtime.getRuntime().addShutdownHook(d.shutdownHook);
        try {
            d.createBridge();
            d.startDockerd();
            d.ensureImage();
            return d;
        } catch (RuntimeException | Error e) {
            d.closeQuietly();
            throw e;
        }
    }

    /** {@code unix:///tmp/wftd-…/docker.sock}. */
    public String host() {
        return "unix://" + dir.resolve("docker.sock");
    }

    /**
     * The test image: busybox-static with sh, httpd, nc, ip, ping, true, sleep, wget and a few more; working
     * directory /www with an index.html ("weft-test"), so {@code httpd -f -p 8080} serves it.
     */
    public String image() {
        return IMAGE;
    }

    /** PID of the running dockerd (changes with {@link #restart()}). */
    public synchronized long pid() {
        return process.pid();
    }

    /** The bridge containers attach to (wftd + 4 hex digits). */
    public String bridge() {
        return bridge;
    }

    /** The bridge's subnet, e.g. "10.123.45.0/24"; containers get addresses from it. */
    public String subnet() {
        return subnet;
    }

    /** The bridge's own address (the containers' gateway). */
    public String gateway() {
        return gateway;
    }

    /** {@code docker run -d ARGS…}: returns the new container's full ID. */
    public String run(String... dockerRunArgs) {
        String[] args = new String[dockerRunArgs.length + 2];
        args[0] = "run";
        args[1] = "-d";
        System.arraycopy(dockerRunArgs, 0, args, 2, dockerRunArgs.length);
        String out = output(args).strip();
        return out.substring(out.lastIndexOf('\n') + 1).strip();
    }

    /** Runs {@code docker -H host ARGS…}; fails unless it exits 0. */
    public void exec(String... dockerArgs) {
        output(dockerArgs);
    }

    /** Runs {@code docker -H host ARGS…} and returns its standard output; fails unless it exits 0. */
    public String output(String... dockerArgs) {
        List<String> cmd = new ArrayList<>(List.of(docker, "-H", host()));
        cmd.addAll(Arrays.asList(dockerArgs));
        return execute(cmd, true, CLI_TIMEOUT).stdout();
    }

    /**
     * Stops dockerd (SIGTERM; its containers are stopped by it, those with a restart policy may come back) and
     * starts it again on the same data-root and socket; returns once it answers. Event streams see EOF.
     */
    public synchronized void restart() {
        stopDockerd();
        startDockerd();
    }

    /** Removes every container, stops dockerd, unmounts and deletes the directory, deletes the bridge. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from the hook itself
        }
        List<Throwable> failures = new ArrayList<>();
        if (process != null && process.isAlive()) {
            attempt(failures, this::removeAllContainers);
        }
        attempt(failures, this::stopDockerd);
        attempt(failures, this::unmountLeftovers);
        attempt(failures, () -> deleteTree(dir));
        if (bridgeCreated) {
            attempt(failures, () -> execute(List.of(ip, "link", "del", bridge), true, Duration.ofSeconds(30)));
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("teardown of dockerd " + host() + " (bridge "
                    + bridge + ") incomplete");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            System.err.println("DockerDaemon: " + e);
            for (Throwable s : e.getSuppressed()) {
                System.err.println("  " + s);
            }
        }
    }

    // --- the bridge ---

    private void createBridge() {
        execute(List.of(ip, "link", "add", bridge, "type", "bridge"), true, Duration.ofSeconds(30));
        bridgeCreated = true;
        execute(List.of(ip, "link", "set", bridge, "alias", "weft test dockerd " + dir), true, Duration.ofSeconds(30));
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 50; attempt++) {
            int b = random.nextInt(16, 250);
            int c = random.nextInt(1, 255);
            String net = "10." + b + "." + c + ".0";
            if (overlapsRoute(net, List.of())) {
                continue;
            }
            String cidr = "10." + b + "." + c + ".1/24";
            execute(List.of(ip, "addr", "add", cidr, "dev", bridge), true, Duration.ofSeconds(30));
            // another fixture may have taken the same /24 meanwhile: then only ours may cover it
            if (overlapsRoute(net, List.of(bridge))) {
                execute(List.of(ip, "addr", "del", cidr, "dev", bridge), true, Duration.ofSeconds(30));
                continue;
            }
            subnet = net + "/24";
            gateway = "10." + b + "." + c + ".1";
            execute(List.of(ip, "link", "set", bridge, "up"), true, Duration.ofSeconds(30));
            return;
        }
        throw new IllegalStateException("no free private /24 in 10.16-249.x.0 for the test bridge");
    }

    /** True when a route (any table) other than one on {@code ignoredDevs} overlaps {@code net}/24. */
    private boolean overlapsRoute(String net, List<String> ignoredDevs) {
        long base = ipv4(net);
        for (String line : execute(List.of(ip, "-4", "route", "show", "table", "all"), true,
                Duration.ofSeconds(30)).stdout().split("\n")) {
            List<String> t = new ArrayList<>(Arrays.asList(line.trim().split("\\s+")));
            if (t.isEmpty() || t.get(0).isEmpty()) {
                continue;
            }
            if (List.of("unicast", "local", "broadcast", "multicast", "anycast", "blackhole", "unreachable",
                    "prohibit", "throw", "nat").contains(t.get(0))) {
                t.remove(0);
            }
            if (t.isEmpty() || t.get(0).equals("default")) {
                continue;
            }
            int dev = t.indexOf("dev");
            if (dev >= 0 && dev + 1 < t.size() && ignoredDevs.contains(t.get(dev + 1))) {
                continue;
            }
            String prefix = t.get(0);
            int slash = prefix.indexOf('/');
            int len = slash < 0 ? 32 : Integer.parseInt(prefix.substring(slash + 1));
            long addr = ipv4(slash < 0 ? prefix : prefix.substring(0, slash));
            int common = Math.min(len, 24);
            long mask = common == 0 ? 0 : (0xffffffffL << (32 - common)) & 0xffffffffL;
            if ((addr & mask) == (base & mask)) {
                return true;
            }
        }
        return false;
    }

    private static long ipv4(String dotted) {
        try {
            byte[] b = InetAddress.getByName(dotted).getAddress();
            return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // --- dockerd ---

    private void startDockerd() {
        try {
            Files.createDirectories(dir.resolve("data"));
            Files.createDirectories(dir.resolve("exec"));
            if (!Files.exists(dir.resolve("daemon.json"))) {
                Files.writeString(dir.resolve("daemon.json"), "{}\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = List.of(dockerd,
                "--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(),
                "--pidfile", dir.resolve("docker.pid").toString(),
                "--config-file", dir.resolve("daemon.json").toString(),
                "-H", host(),
                "--containerd-namespace", bridge,
                "--containerd-plugins-namespace", bridge + "-plugins",
                "--bridge", bridge,
                "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                "--ip", "127.0.0.1",
                "--userland-proxy=true",
                "--shutdown-timeout", "5");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("dockerd.log").toFile()));
        cleanEnvironment(pb.environment());
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + dockerd, e);
        }
        Process p = process;
        try (DockerClient client = DockerClient.connect(host(), Duration.ofSeconds(2))) {
            Poll.until(START_TIMEOUT, () -> "dockerd at " + host() + " to answer /_ping; log:\n" + logTail(), () -> {
                if (!p.isAlive()) {
                    throw new AssertionError("dockerd exited with status " + p.exitValue() + "; log:\n" + logTail());
                }
                return client.ping();
            });
        }
    }

    private void stopDockerd() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy(); // SIGTERM: dockerd stops its containers and its containerd
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                System.err.println("DockerDaemon: dockerd " + p.pid() + " ignored SIGTERM for " + STOP_TIMEOUT
                        + "; SIGKILL");
                p.destroyForcibly();
                p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            // only after a SIGKILL can its own children (containerd, docker-proxy) outlive it
            for (ProcessHandle child : children) {
                if (child.isAlive()) {
                    child.destroy();
                    try {
                        child.onExit().get(10, TimeUnit.SECONDS);
                    } catch (ExecutionException | TimeoutException e) {
                        child.destroyForcibly();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    private void removeAllContainers() {
        String ids = output("ps", "-aq", "--no-trunc").strip();
        if (!ids.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("rm", "-f", "-v"));
            cmd.addAll(Arrays.asList(ids.split("\\s+")));
            output(cmd.toArray(String[]::new));
        }
    }

    private void ensureImage() {
        List<String> inspect = List.of(docker, "-H", host(), "image", "inspect", IMAGE);
        if (execute(inspect, false, CLI_TIMEOUT).exit() == 0) {
            return;
        }
        Path rootfs = dir.resolve("rootfs");
        try {
            Files.createDirectories(rootfs.resolve("bin"));
            Files.createDirectories(rootfs.resolve("tmp"));
            Files.createDirectories(rootfs.resolve("www"));
            Files.copy(BUSYBOX, rootfs.resolve("bin/busybox"));
            for (String applet : APPLETS) {
                Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
            }
            Files.writeString(rootfs.resolve("www/index.html"), "weft-test\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path tar = dir.resolve("rootfs.tar");
        execute(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."), true, CLI_TIMEOUT);
        output("import", "-c", "CMD [\"/bin/sh\"]", "-c", "WORKDIR /www", tar.toString(), IMAGE);
        try {
            deleteTree(rootfs);
            Files.delete(tar);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // --- teardown helpers ---

    /** Mounts a dockerd left under our directory (only after an unclean stop): unmounted, deepest first. */
    private void unmountLeftovers() {
        List<String> mounts = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                String point = unescape(f[4]);
                if (point.equals(dir.toString()) || point.startsWith(dir + "/")) {
                    mounts.add(point);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        mounts.sort((a, b) -> b.length() - a.length());
        for (String m : mounts) {
            execute(List.of("umount", "-l", m), false, Duration.ofSeconds(30));
        }
    }

    private static String unescape(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void attempt(List<Throwable> failures, Step step) {
        try {
            step.run();
        } catch (Exception | AssertionError e) {
            failures.add(e);
        }
    }

    // --- processes ---

    private record Result(int exit, String stdout, String stderr) {
    }

    private Result execute(List<String> cmd, boolean check, Duration timeout) {
        try {
            Path out = Files.createTempFile("wftd-cmd-", ".out");
            Path err = Files.createTempFile("wftd-cmd-", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
                cleanEnvironment(pb.environment());
                pb.environment().put("DOCKER_CONFIG", dir.resolve("cli-config").toString());
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                    throw new IllegalStateException(String.join(" ", cmd) + ": no exit within " + timeout);
                }
                Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
                if (check && r.exit() != 0) {
                    throw new IllegalStateException(String.join(" ", cmd) + ": exit " + r.exit() + ": "
                            + r.stderr().strip());
                }
                return r;
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    private static void cleanEnvironment(Map<String, String> env) {
        env.keySet().removeIf(k -> k.startsWith("DOCKER_") || k.equals("CONTAINER_HOST"));
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("dockerd.log"), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** True for an ELF file without a program interpreter (statically linked); true for non-64-bit-LE ELF. */
    static boolean isStaticElf(Path file) {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(h, 0);
            if (h.get(0) != 0x7f || h.get(1) != 'E' || h.get(2) != 'L' || h.get(3) != 'F') {
                return false;
            }
            if (h.get(4) != 2 || h.get(5) != 1) {
                return true;
            }
            long phoff = h.getLong(0x20);
            int phentsize = h.getShort(0x36) & 0xffff;
            int phnum = h.getShort(0x38) & 0xffff;
            ByteBuffer ph = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < phnum; i++) {
                ph.clear();
                ch.read(ph, phoff + (long) i * phentsize);
                if (ph.getInt(0) == 3) { // PT_INTERP
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
