package dev.weft.net.docker;

import dev.weft.net.netlink.Commands;
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
        return Commands.isRoot();
    }

    /** Runs a command with a 30 s deadline: its stdout, or an AssertionError with its output. */
    static String run(String... command) {
        return Commands.run(command);
    }
}
