package dev.weft.agent.cluster;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One weft server running as a separate JVM ({@code dev.weft.agent.Main agent -server ...}) started from the
 * test's own class path. Its output is appended to {@code <name>.log}; restarting keeps the data dir and ports.
 * Only ever signals the process it started itself.
 */
final class ForkedServer implements AutoCloseable {

    final String name;
    final int httpPort;
    final int raftPort;
    final int dnsPort;
    final Path dataDir;
    final Path log;
    private final List<String> args;
    private List<String> jvmArgs;
    private Process process;

    ForkedServer(String name, int httpPort, int raftPort, int dnsPort, Path dataDir, Path log, List<String> args) {
        this.name = name;
        this.httpPort = httpPort;
        this.raftPort = raftPort;
        this.dnsPort = dnsPort;
        this.dataDir = dataDir;
        this.log = log;
        this.args = List.copyOf(args);
    }

    /** JVM options instead of the IT default ({@code weft.it.jvmArgs}), e.g. a client agent's. */
    ForkedServer jvmArgs(List<String> options) {
        this.jvmArgs = List.copyOf(options);
        return this;
    }

    /** The Raft address that {@code /v1/status/leader} reports for this server. */
    String raftAddress() {
        return "127.0.0.1:" + raftPort;
    }

    synchronized void start() throws IOException {
        if (isAlive()) {
            throw new IllegalStateException(name + " is already running");
        }
        Files.createDirectories(dataDir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Small, cheap JVMs: four of them (three servers and the test) share two cores.
        cmd.addAll(jvmArgs != null ? jvmArgs : List.of(System.getProperty("weft.it.jvmArgs",
                "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1").trim().split("\\s+")));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.weft.agent.Main");
        cmd.addAll(args);
        Files.writeString(log, "\n===== " + Instant.now() + " starting " + name + ": " + String.join(" ", args)
                + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Exit code of the last run, or null while it runs (or before it started). */
    synchronized Integer exitCode() {
        return process == null || process.isAlive() ? null : process.exitValue();
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    /** kill -9 of the child we started. */
    synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** SIGTERM (the agent's orderly shutdown), then kill -9 if it has not exited within 20 s. */
    synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** The last {@code lines} lines of this server's log (all of its runs), without stack frames. */
    String tail(int lines) {
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - 4096L * lines);
            byte[] buf = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(buf);
            List<String> all = new ArrayList<>(List.of(new String(buf, StandardCharsets.UTF_8).split("\n", -1)));
            if (from > 0) {
                all.remove(0); // partial line
            }
            all.removeIf(l -> l.matches("\\s+at .*") || l.matches("\\s*\\.\\.\\. \\d+ more"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    long logSize() throws IOException {
        return Files.size(log);
    }

    /** The log written since byte offset {@code from} (e.g. the size before a restart). */
    String logSince(long from) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            byte[] buf = new byte[(int) Math.max(0, f.length() - from)];
            f.seek(Math.min(from, f.length()));
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (this) {
                if (process != null) {
                    process.destroyForcibly();
                }
            }
        }
    }

    @Override
    public String toString() {
        return name + "(http " + httpPort + ", raft " + raftPort + ", pid " + pid() + ")";
    }
}
