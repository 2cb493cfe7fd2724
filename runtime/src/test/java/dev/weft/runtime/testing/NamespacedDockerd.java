package dev.weft.runtime.testing;

import dev.weft.kvstore.testing.Requires;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A private dockerd inside a given network namespace: the container engine of a "simulated host" (a namespace
 * such as {@code /run/netns/NAME} that the test created). Started as
 * <pre>
 * nsenter --net=NETNS unshare --mount --propagation private sh -c
 *     'mount --make-rprivate /; mkdir -p /run/docker/plugins; mount --bind PLUGINDIR /run/docker/plugins; exec dockerd …'
 * </pre>
 * so it has its own mount namespace (its overlay mounts and its {@code /run/docker/plugins} are invisible to the
 * machine, and that namespace ends with its last process) and discovers network/IPAM plugins whose sockets are
 * placed in {@code PLUGINDIR} (e.g. {@code PLUGINDIR/weft.sock} is the plugin "weft"). ({@code ip netns exec} is
 * not used: it remounts /sys and hides the cgroup mounts.)
 * <p>
 * dockerd runs with {@code --bridge=none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false}
 * (no docker0, no firewall rules, no sysctls, in the namespace or anywhere else), its own data-root, exec-root,
 * pidfile, config file, socket and containerd namespace under a fresh {@code /tmp/wftn-<6 hex>/}, so several of
 * them and {@link DockerDaemon}s run side by side. The test image {@link #IMAGE} is imported once per daemon.
 * Needs root, {@code dockerd}, {@code docker}, {@code nsenter}, {@code unshare} and a static
 * {@code /bin/busybox}: skips without them, fails with {@code CI=true}. The namespace stays the caller's: this
 * fixture neither creates nor deletes it.
 */
public final class NamespacedDockerd implements AutoCloseable {
    public static final String IMAGE = DockerdProcess.IMAGE;
    private static final String ENTER_SCRIPT = "mount --make-rprivate / && mkdir -p /run/docker/plugins"
            + " && mount --bind \"$1\" /run/docker/plugins && shift && exec \"$@\"";

    private final Path netns;
    private final Path pluginDir;
    private final String name;
    private final DockerdProcess dockerd;
    private String mountNamespace = "";
    private boolean closed;
    private final Thread shutdownHook = new Thread(
            () -> DockerdProcess.closeQuietly("NamespacedDockerd", this::close), "namespaced-dockerd-teardown");

    private NamespacedDockerd(Path netns, Path pluginDir, String name, DockerdProcess dockerd) {
        this.netns = netns;
        this.pluginDir = pluginDir;
        this.name = name;
        this.dockerd = dockerd;
    }

    /**
     * Starts dockerd in the network namespace {@code netnsFile} (e.g. {@code /run/netns/NAME}) with
     * {@code pluginDir} (an existing directory) as its {@code /run/docker/plugins}, waits until it answers and
     * imports the test image. Skips (or fails in CI) when the machine lacks what it needs.
     */
    public static NamespacedDockerd start(Path netnsFile, Path pluginDir) {
        Requires.root();
        String dockerdCommand = Requires.command("dockerd");
        String nsenter = Requires.command("nsenter");
        String unshare = Requires.command("unshare");
        String docker = DockerdProcess.dockerCli();
        DockerdProcess.requireBusybox();
        if (!Files.exists(netnsFile)) {
            throw new IllegalArgumentException("no network namespace file " + netnsFile);
        }
        if (!Files.isDirectory(pluginDir)) {
            throw new IllegalArgumentException("plugin directory " + pluginDir + " is not a directory");
        }
        String name;
        Path dir;
        while (true) {
            name = "wftn" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
            dir = Path.of("/tmp", "wftn-" + name.substring(4));
            try {
                Files.createDirectory(dir);
                break;
            } catch (FileAlreadyExistsException taken) {
                // another daemon's: draw again
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        NamespacedDockerd d = new NamespacedDockerd(netnsFile.toAbsolutePath(), pluginDir.toAbsolutePath(), name,
                new DockerdProcess(docker, dir));
        Runtime.getRuntime().addShutdownHook(d.shutdownHook);
        try {
            List<String> cmd = new ArrayList<>(List.of(nsenter, "--net=" + d.netns, unshare, "--mount",
                    "--propagation", "private", "sh", "-c", ENTER_SCRIPT, "sh", d.pluginDir.toString(),
                    dockerdCommand));
            cmd.addAll(d.dockerd.fileFlags());
            cmd.addAll(List.of(
                    "--containerd-namespace", name,
                    "--containerd-plugins-namespace", name + "-plugins",
                    "--bridge=none",
                    "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                    "--userland-proxy=false",
                    "--shutdown-timeout", "5"));
            d.dockerd.start(cmd);
            d.mountNamespace = Files.readSymbolicLink(Path.of("/proc", Long.toString(d.pid()), "ns", "mnt"))
                    .toString();
            d.dockerd.ensureImage();
            return d;
        } catch (IOException e) {
            DockerdProcess.closeQuietly("NamespacedDockerd", d::close);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            DockerdProcess.closeQuietly("NamespacedDockerd", d::close);
            throw e;
        }
    }

    /** {@code unix:///tmp/wftn-…/docker.sock}. */
    public String host() {
        return dockerd.host();
    }

    /** PID of dockerd itself (nsenter, unshare and sh exec into it). */
    public long pid() {
        return dockerd.pid();
    }

    /** The network namespace file it runs in. */
    public Path netns() {
        return netns;
    }

    /** The directory that is its {@code /run/docker/plugins}: put a plugin's socket here. */
    public Path pluginDir() {
        return pluginDir;
    }

    /** Its own directory ({@code /tmp/wftn-<6 hex>}); its containerd namespace is {@code wftn<6 hex>}. */
    public Path dir() {
        return dockerd.dir();
    }

    /** Its mount namespace, as {@code /proc/PID/ns/mnt} reads ({@code mnt:[N]}). */
    public String mountNamespace() {
        return mountNamespace;
    }

    /** The test image: busybox-static (sh, httpd, nc, ip, ping, sleep, wget, …), working directory /www. */
    public String image() {
        return IMAGE;
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

    /** {@code /proc/PID/ns/net} of a running container, for {@code nsenter --net=…} or {@code NetNs.run}. */
    public Path containerNetns(String containerId) {
        String pid = output("inspect", "-f", "{{.State.Pid}}", containerId).strip();
        if (pid.isEmpty() || pid.equals("0")) {
            throw new IllegalStateException("container " + containerId + " is not running");
        }
        return Path.of("/proc", pid, "ns", "net");
    }

    /**
     * Removes every container, stops dockerd (SIGTERM, SIGKILL after 30 s), ends what is left in its mount
     * namespace (container shims after an unclean stop: only processes this daemon started live there), and
     * deletes its directory. The plugin directory and the network namespace stay.
     */
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
        DockerdProcess.attempt(failures, this::endLeftovers);
        DockerdProcess.attempt(failures, dockerd::deleteDirectory);
        DockerdProcess.throwIfAny(failures, "teardown of namespaced dockerd " + host() + " in " + netns);
    }

    private void endLeftovers() throws IOException {
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        if (mountNamespace.isEmpty() || mountNamespace.equals(own)) {
            return; // never started, or (impossible with unshare) not a namespace of its own: nothing is ours
        }
        ProcessHandle.allProcesses().filter(p -> mountNamespace.equals(mountNamespaceOf(p.pid())))
                .forEach(DockerdProcess::terminate);
    }

    private static String mountNamespaceOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "mnt")).toString();
        } catch (IOException | SecurityException gone) {
            return "";
        }
    }

    @Override
    public String toString() {
        return "NamespacedDockerd[" + name + " in " + netns + ", " + host() + "]";
    }
}
