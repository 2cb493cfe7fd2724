package dev.weft.chaos.harness;

import eu.rekawek.toxiproxy.ToxiproxyClient;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Shopify's Toxiproxy server as a child process on loopback, and a client for it. The binary is the one
 * {@code go install github.com/Shopify/toxiproxy/v2/cmd/server@VERSION} builds (named {@code server}), found
 * through {@code $TOXIPROXY_SERVER}, {@code toxiproxy-server} on PATH, {@code $GOBIN}, {@code $GOPATH/bin} or
 * {@code ~/go/bin}.
 */
public final class Toxiproxy implements AutoCloseable {
    private final Process process;
    private final int port;
    private final ToxiproxyClient client;

    private Toxiproxy(Process process, int port) {
        this.process = process;
        this.port = port;
        this.client = new ToxiproxyClient("127.0.0.1", port);
    }

    /** The server binary, or null when none is installed. */
    public static Path findServer() {
        List<Path> candidates = new ArrayList<>();
        String explicit = System.getenv("TOXIPROXY_SERVER");
        if (explicit != null && !explicit.isBlank()) {
            candidates.add(Path.of(explicit));
        }
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "toxiproxy-server"));
            }
        }
        String gobin = System.getenv("GOBIN");
        if (gobin != null && !gobin.isBlank()) {
            candidates.add(Path.of(gobin, "server"));
        }
        String gopath = System.getenv("GOPATH");
        if (gopath != null && !gopath.isBlank()) {
            candidates.add(Path.of(gopath.split(File.pathSeparator)[0], "bin", "server"));
        }
        candidates.add(Path.of(System.getProperty("user.home"), "go", "bin", "server"));
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Starts the server on a free loopback port; its output goes to {@code log}. */
    public static Toxiproxy start(Path binary, Path log) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = Ports.freeLoopbackPorts(1)[0];
            ProcessBuilder pb = new ProcessBuilder(binary.toString(), "-host", "127.0.0.1", "-port",
                    Integer.toString(port))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            // Toxiproxy logs every connection at debug level by default: tens of MB per run.
            pb.environment().put("LOG_LEVEL", "warn");
            Process p = Children.track(pb.start());
            Toxiproxy t = new Toxiproxy(p, port);
            try {
                Deadline.poll(Duration.ofSeconds(15), "Toxiproxy server on port " + port, () -> {
                    if (!p.isAlive()) {
                        throw new IOException("Toxiproxy server exited with " + p.exitValue() + " (see " + log + ")");
                    }
                    try {
                        return t.client.version() != null ? Boolean.TRUE : null;
                    } catch (IOException notYet) {
                        return null;
                    }
                });
                return t;
            } catch (IOException e) {
                last = e;
                t.close();
            }
        }
        throw last;
    }

    public ToxiproxyClient client() {
        return client;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
