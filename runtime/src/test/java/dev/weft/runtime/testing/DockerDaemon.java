package dev.weft.runtime.testing;

import dev.weft.kvstore.testing.Requires;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

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
    public static final String IMAGE = DockerdProcess.IMAGE;

    private final String dockerdCommand;
    private final String ip;
    private final DockerdProcess dockerd;
    private final String bridge;
    private String subnet = "";
    private String gateway = "";
    private boolean bridgeCreated;
    private boolean closed;
    private final Thread shutdownHook = new Thread(
            () -> DockerdProcess.closeQuietly("DockerDaemon", this::close), "docker-daemon-teardown");

    private DockerDaemon(String dockerdCommand, String ip, DockerdProcess dockerd, String bridge) {
        this.dockerdCommand = dockerdCommand;
        this.ip = ip;
        this.dockerd = dockerd;
        this.bridge = bridge;
    }

    /** Starts a private dockerd and imports the test image; skips (or fails in CI) when the machine lacks one. */
    public static DockerDaemon start() {
        Requires.root();
        String dockerdCommand = Requires.command("dockerd");
        String docker = DockerdProcess.dockerCli();
        String ip = Requires.command("ip");
        DockerdProcess.requireBusybox();
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
        DockerDaemon d = new DockerDaemon(dockerdCommand, ip, new DockerdProcess(docker, dir), bridge);
        Runtime.getRuntime().addShutdownHook(d.shutdownHook);
        try {
            d.createBridge();
            d.dockerd.start(d.command());
            d.dockerd.ensureImage();
            return d;
        } catch (RuntimeException | Error e) {
            DockerdProcess.closeQuietly("DockerDaemon", d::close);
            throw e;
        }
    }

    private List<String> command() {
        List<String> cmd = new ArrayList<>(List.of(dockerdCommand));
        cmd.addAll(dockerd.fileFlags());
        cmd.addAll(List.of(
                "--containerd-namespace", bridge,
                "--containerd-plugins-namespace", bridge + "-plugins",
                "--bridge", bridge,
                "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                "--ip", "127.0.0.1",
                "--userland-proxy=true",
                "--shutdown-timeout", "5"));
        return cmd;
    }

    /** {@code unix:///tmp/wftd-…/docker.sock}. */
    public String host() {
        return dockerd.host();
    }

    /**
     * The test image: busybox-static with sh, httpd, nc, ip, ping, true, sleep, wget and a few more; working
     * directory /www with an index.html ("weft-test"), so {@code httpd -f -p 8080} serves it.
     */
    public String image() {
        return IMAGE;
    }

    /** PID of the running dockerd (changes with {@link #restart()}). */
    public long pid() {
        return dockerd.pid();
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
        return dockerd.run(dockerRunArgs);
    }

    /** Runs {@code docker -H host ARGS…}; fails unless it exits 0. */
    public void exec(String... dockerArgs) {
        dockerd.output(dockerArgs);
    }

    /** Runs {@code docker -H host ARGS…} and returns its standard output; fails unless it exits 0. */
    public String output(String... dockerArgs) {
        return dockerd.output(dockerArgs);
    }

    /**
     * Stops dockerd (SIGTERM; its containers are stopped by it, those with a restart policy may come back) and
     * starts it again on the same data-root and socket; returns once it answers. Event streams see EOF.
     */
    public synchronized void restart() {
        dockerd.stop();
        dockerd.start(command());
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
        if (dockerd.alive()) {
            DockerdProcess.attempt(failures, dockerd::removeAllContainers);
        }
        DockerdProcess.attempt(failures, dockerd::stop);
        DockerdProcess.attempt(failures, dockerd::deleteDirectory);
        if (bridgeCreated) {
            DockerdProcess.attempt(failures, () -> ip("link", "del", bridge));
        }
        DockerdProcess.throwIfAny(failures, "teardown of dockerd " + host() + " (bridge " + bridge + ")");
    }

    // --- the bridge ---

    private String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip));
        cmd.addAll(Arrays.asList(args));
        return dockerd.execute(cmd, true, Duration.ofSeconds(30)).stdout();
    }

    private void createBridge() {
        ip("link", "add", bridge, "type", "bridge");
        bridgeCreated = true;
        ip("link", "set", bridge, "alias", "weft test dockerd " + dockerd.dir());
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 50; attempt++) {
            int b = random.nextInt(16, 250);
            int c = random.nextInt(1, 255);
            String net = "10." + b + "." + c + ".0";
            if (overlapsRoute(net, List.of())) {
                continue;
            }
            String cidr = "10." + b + "." + c + ".1/24";
            ip("addr", "add", cidr, "dev", bridge);
            // another fixture may have taken the same /24 meanwhile: then only ours may cover it
            if (overlapsRoute(net, List.of(bridge))) {
                ip("addr", "del", cidr, "dev", bridge);
                continue;
            }
            subnet = net + "/24";
            gateway = "10." + b + "." + c + ".1";
            ip("link", "set", bridge, "up");
            return;
        }
        throw new IllegalStateException("no free private /24 in 10.16-249.x.0 for the test bridge");
    }

    /** True when a route (any table) other than one on {@code ignoredDevs} overlaps {@code net}/24. */
    private boolean overlapsRoute(String net, List<String> ignoredDevs) {
        long base = ipv4(net);
        for (String line : ip("-4", "route", "show", "table", "all").split("\n")) {
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
}
