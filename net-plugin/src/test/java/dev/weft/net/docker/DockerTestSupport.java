package dev.weft.net.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** Docker's stand-in for the tests: curl over the plugin socket; commands with a deadline. */
final class DockerTestSupport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerTestSupport() {
    }

    /** An HTTP answer: status, Content-Type and JSON body. */
    record Reply(int status, String contentType, JsonNode body) {
    }

    /** {@code curl --unix-socket SOCK -X POST --data-binary JSON http://localhost/METHOD}. */
    static Reply call(String curl, Path socket, String method, String json) {
        return curl(curl, "-sS", "--unix-socket", socket.toString(), "-X", "POST", "-H",
                "Content-Type: " + DockerPluginServer.CONTENT_TYPE, "--data-binary", json, "-w",
                "\n%{http_code} %{content_type}", "http://localhost" + method);
    }

    /** Runs curl with these arguments (which must end with {@code -w "\n%{http_code} %{content_type}" URL}). */
    static Reply curl(String... command) {
        String out = run(command);
        int nl = out.lastIndexOf('\n');
        String[] tail = out.substring(nl + 1).trim().split(" ", 2);
        try {
            JsonNode body = JSON.readTree(out.substring(0, Math.max(0, nl)));
            return new Reply(Integer.parseInt(tail[0]), tail.length > 1 ? tail[1] : "", body);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + out, e);
        }
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Runs a command with a 30 s deadline: its stdout, or an AssertionError with its output. */
    static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).start();
            p.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", command));
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + p.exitValue() + ": "
                        + err.join() + out.join());
            }
            return out.join();
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String read(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
