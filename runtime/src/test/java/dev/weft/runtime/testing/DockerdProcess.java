package dev.weft.runtime.testing;

import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import dev.weft.runtime.DockerClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the test dockerd fixtures ({@link DockerDaemon}, {@link NamespacedDockerd}) share: one dockerd process
 * whose files (data-root, exec-root, pidfile, config file, socket, log) live under one directory, the docker CLI
 * against its socket, the test image, and the teardown steps. The fixtures decide the command line.
 */
final class DockerdProcess {
    static final String IMAGE = "weft-test/busybox";
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "httpd", "nc", "ip", "ping", "true", "false", "sleep",
            "cat", "echo", "wget", "ls", "kill", "env", "hostname", "nslookup", "mkdir");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    static final Duration CLI_TIMEOUT = Duration.ofSeconds(120);

    private final String docker;
    private final Path dir;
    private Process process;

    DockerdProcess(String docker, Path dir) {
        this.docker = docker;
        this.dir = dir;
    }

    /** The docker CLI (prefers /usr/bin/docker), skipping or failing in CI without one. */
    static String dockerCli() {
        return Files.isExecutable(Path.of("/usr/bin/docker")) ? "/usr/bin/docker" : Requires.command("docker");
    }

    /** Skips (or fails in CI) unless a static /bin/busybox is there to build the test image from. */
    static void requireBusybox() {
        Requires.that(Files.isExecutable(BUSYBOX) && isStaticElf(BUSYBOX),
                "a static /bin/busybox (Debian package busybox-static) for the test image");
    }

    Path dir() {
        return dir;
    }

    /** {@code unix://DIR/docker.sock}. */
    String host() {
        return "unix://" + dir.resolve("docker.sock");
    }

    /** The dockerd flags for the files under the directory: data-root, exec-root, pidfile, config file, socket. */
    List<String> fileFlags() {
        return List.of("--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(),
                "--pidfile", dir.resolve("docker.pid").toString(),
                "--config-file", dir.resolve("daemon.json").toString(),
                "-H", host());
    }

    synchronized long pid() {
        return process.pid();
    }

    synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    /**
     * Starts {@code command} (which must end up exec'ing dockerd with {@link #fileFlags()}, so that the started
     * process is dockerd), its output appended to DIR/dockerd.log, and returns once the daemon answers /_ping.
     */
    synchronized void start(List<String> command) {
        try {
            Files.createDirectories(dir.resolve("data"));
            Files.createDirectories(dir.resolve("exec"));
            if (!Files.exists(dir.resolve("daemon.json"))) {
                Files.writeString(dir.resolve("daemon.json"), "{}\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("dockerd.log").toFile()));
        cleanEnvironment(pb.environment());
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
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

    /**
     * SIGTERM (dockerd stops its containers and its containerd), SIGKILL after {@link #STOP_TIMEOUT}; after a
     * SIGKILL also its own leftover children (containerd, docker-proxy). Nothing to do when it is not running.
     */
    synchronized void stop() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                System.err.println("dockerd " + p.pid() + " (" + host() + ") ignored SIGTERM for " + STOP_TIMEOUT
                        + "; SIGKILL");
                p.destroyForcibly();
                p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            children.forEach(DockerdProcess::terminate);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    /** SIGTERM, then SIGKILL after 10 s, of a process this fixture started (directly or through dockerd). */
    static void terminate(ProcessHandle h) {
        if (!h.isAlive()) {
            return;
        }
        h.destroy();
        try {
            h.onExit().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            h.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            h.destroyForcibly();
        }
    }

    // --- the CLI ---

    /** {@code docker run -d ARGS…}: the new container's full ID. */
    String run(String... dockerRunArgs) {
        String[] args = new String[dockerRunArgs.length + 2];
        args[0] = "run";
        args[1] = "-d";
        System.arraycopy(dockerRunArgs, 0, args, 2, dockerRunArgs.length);
        String out = output(args).strip();
        return out.substring(out.lastIndexOf('\n') + 1).strip();
    }

    /** {@code docker -H host ARGS…}: its standard output; fails unless it exits 0. */
    String output(String... dockerArgs) {
        List<String> cmd = new ArrayList<>(List.of(docker, "-H", host()));
        cmd.addAll(Arrays.asList(dockerArgs));
        return execute(cmd, true, CLI_TIMEOUT).stdout();
    }

    void removeAllContainers() {
        String ids = output("ps", "-aq", "--no-trunc").strip();
        if (!ids.isEmpty()) {
            List<String> cmd = new ArrayList<>(List.of("rm", "-f", "-v"));
            cmd.addAll(Arrays.asList(ids.split("\\s+")));
            output(cmd.toArray(String[]::new));
        }
    }

    /**
     * Imports {@link #IMAGE} unless the daemon has it: busybox-static with {@link #APPLETS}, working directory
     * /www with an index.html ("weft-test").
     */
    void ensureImage() {
        if (execute(List.of(docker, "-H", host(), "image", "inspect", IMAGE), false, CLI_TIMEOUT).exit() == 0) {
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

    // --- teardown ---

    /** Unmounts what the host's mount namespace still has under the directory (deepest first), then deletes it. */
    void deleteDirectory() throws IOException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = unescape(line.split(" ")[4]);
            if (point.equals(dir.toString()) || point.startsWith(dir + "/")) {
                mounts.add(point);
            }
        }
        mounts.sort((a, b) -> b.length() - a.length());
        for (String m : mounts) {
            execute(List.of("umount", "-l", m), false, Duration.ofSeconds(30));
        }
        deleteTree(dir);
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
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
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

    interface Step {
        void run() throws Exception;
    }

    /** Runs one teardown step, collecting its failure so that the next steps still run. */
    static void attempt(List<Throwable> failures, Step step) {
        try {
            step.run();
        } catch (Exception | AssertionError e) {
            failures.add(e);
        }
    }

    /** Throws one exception carrying every collected failure, if any. */
    static void throwIfAny(List<Throwable> failures, String what) {
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException(what + " incomplete");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** For shutdown hooks: prints instead of throwing. */
    static void closeQuietly(String name, Runnable close) {
        try {
            close.run();
        } catch (RuntimeException e) {
            System.err.println(name + ": " + e);
            for (Throwable s : e.getSuppressed()) {
                System.err.println("  " + s);
            }
        }
    }

    // --- processes ---

    record Result(int exit, String stdout, String stderr) {
    }

    /** Runs a command with a clean Docker environment and this daemon's own CLI config directory. */
    Result execute(List<String> cmd, boolean check, Duration timeout) {
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

    String logTail() {
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
