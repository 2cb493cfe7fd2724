package dev.weft.net.netlink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Test fixtures' commands (`ip`, `bridge`, curl): only tests run commands, the product never does. */
public final class Commands {
    private Commands() {
    }

    /** Whether the tests run as root (network namespaces need it). */
    public static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Runs a command with a 30 s deadline: its stdout, or an AssertionError with its output. */
    public static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).start();
            p.getOutputStream().close();
            CompletableFuture<String> out = readInBackground(p.getInputStream());
            CompletableFuture<String> err = readInBackground(p.getErrorStream());
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", command));
            }
            String stdout = out.join();
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + p.exitValue() + ": "
                        + err.join() + stdout);
            }
            return stdout;
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + String.join(" ", command), e);
        }
    }

    /**
     * Reads a stream to its end on a thread of its own. Not {@code CompletableFuture.supplyAsync}: on JDK 25 that
     * runs on the common pool even when it has one worker (2 cores), and a worker blocked on a pipe then stalls
     * every other default-executor task in the JVM, Ratis' completions included (seen on JDK 25: the plugin's
     * read barriers waited until curl gave up).
     */
    public static CompletableFuture<String> readInBackground(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> f.complete(read(in)), "weft-test-pipe-reader");
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** All of a stream, as UTF-8 ("" when it fails). */
    public static String read(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
