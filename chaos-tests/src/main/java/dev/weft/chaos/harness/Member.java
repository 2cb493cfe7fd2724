package dev.weft.chaos.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One weft server as a separate JVM. It resolves host names through its own hosts file
 * ({@code -Djdk.net.hosts.file}): its own name is 127.0.0.1, every peer's name is the address of the Toxiproxy
 * proxy for the link from this member to that peer. So each directed Raft link has its own proxy.
 */
public final class Member {
    final int index;
    final String name;
    final String host;
    final int raftPort;
    final int httpPort;
    final int dnsPort;
    final Path dataDir;
    final Path hostsFile;
    final Path log;
    private final Path weftJar;
    private final List<String> args;
    private Process process;
    private int starts;
    private List<String> jvmArgs = List.of("-Xmx192m");
    private Map<String, String> env = Map.of();

    Member(int index, int raftPort, int httpPort, int dnsPort, Path runDir, Path weftJar, List<String> args) {
        this(index, "n" + index, raftPort, httpPort, dnsPort, runDir, weftJar, args);
    }

    /** A member with its own name (client agents: no Raft port). */
    Member(int index, String name, int raftPort, int httpPort, int dnsPort, Path runDir, Path weftJar,
           List<String> args) {
        this.index = index;
        this.name = name;
        this.host = name + ".chaos";
        this.raftPort = raftPort;
        this.httpPort = httpPort;
        this.dnsPort = dnsPort;
        this.dataDir = runDir.resolve("data").resolve(name);
        this.hostsFile = runDir.resolve(name + ".hosts");
        this.log = runDir.resolve(name + ".log");
        this.weftJar = weftJar;
        this.args = List.copyOf(args);
    }

    public String name() {
        return name;
    }

    /** The Raft address every member knows this one by. */
    public String raftAddress() {
        return host + ":" + raftPort;
    }

    /** JVM options of the next start (default {@code -Xmx192m}). */
    public synchronized Member jvmArgs(List<String> args) {
        jvmArgs = List.copyOf(args);
        return this;
    }

    /** Environment variables added for the next start (the launcher's {@code MALLOC_ARENA_MAX}, say). */
    public synchronized Member env(Map<String, String> vars) {
        env = Map.copyOf(vars);
        return this;
    }

    /** The last {@code n} lines of this member's log that {@code which} accepts, or why it cannot be read. */
    public List<String> logTail(int n, java.util.function.Predicate<String> which) {
        try {
            List<String> lines = Files.readAllLines(log).stream().filter(which).toList();
            return lines.subList(Math.max(0, lines.size() - n), lines.size());
        } catch (IOException e) {
            return List.of("(cannot read " + log + ": " + e.getMessage() + ")");
        }
    }

    /** The running process' PID, or -1. */
    public synchronized long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is already running");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Djdk.net.hosts.file=" + hostsFile);
        cmd.addAll(jvmArgs);
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-jar");
        cmd.add(weftJar.toString());
        cmd.addAll(args);
        starts++;
        String envText = env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + " ").sorted()
                .collect(java.util.stream.Collectors.joining());
        Files.writeString(log, "==== " + Instant.now() + " start #" + starts + ": " + envText + String.join(" ", cmd)
                + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        process = pb
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        Children.track(process);
    }

    /** SIGKILL, and wait for the process to be gone. The data dir stays. */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM (a clean shutdown), then SIGKILL if it takes longer than 15 s. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** How many times this member has been started. */
    public synchronized int starts() {
        return starts;
    }

    @Override
    public String toString() {
        return name + "(raft " + raftPort + ", http " + httpPort + ", dns " + dnsPort
                + (process != null ? ", pid " + process.pid() : "") + ")";
    }
}
