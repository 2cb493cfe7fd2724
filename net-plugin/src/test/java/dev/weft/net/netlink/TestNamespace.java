package dev.weft.net.netlink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.kvstore.testing.Requires;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace of a test's own ({@code ip netns add wftnlXXXXXX}), removed by {@link #close()}. Tests use
 * {@code ip} only here, to make and inspect their fixtures; the client under test never runs it.
 */
final class TestNamespace implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String ip;
    private final String name;

    private TestNamespace(String ip, String name) {
        this.ip = ip;
        this.name = name;
    }

    /** Skips (fails with CI=true) unless the JVM runs as root and {@code ip} is installed. */
    static String requireRootAndIp() {
        Requires.that(isRoot(), "root (network namespaces)");
        return Requires.command("ip");
    }

    static TestNamespace create() {
        String ip = requireRootAndIp();
        String name = "wftnl" + String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
        run(ip, "netns", "add", name);
        return new TestNamespace(ip, name);
    }

    private static boolean isRoot() {
        return Commands.isRoot();
    }

    String name() {
        return name;
    }

    /** {@code /var/run/netns/NAME}. */
    Path path() {
        return Path.of("/var/run/netns", name);
    }

    /** {@code ip -n NAME ARGS…}: its output; fails when it exits non-zero. */
    String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip, "-n", name));
        cmd.addAll(Arrays.asList(args));
        return run(cmd.toArray(String[]::new));
    }

    /** {@code ip -n NAME -j ARGS…}, parsed. */
    JsonNode ipJson(String... args) {
        List<String> cmd = new ArrayList<>(List.of("-j"));
        cmd.addAll(Arrays.asList(args));
        return parse(ip(cmd.toArray(String[]::new)));
    }

    /** {@code ip netns exec NAME COMMAND…}: its output; fails when it exits non-zero. */
    String exec(String... command) {
        List<String> cmd = new ArrayList<>(List.of(ip, "netns", "exec", name));
        cmd.addAll(Arrays.asList(command));
        return run(cmd.toArray(String[]::new));
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json.isBlank() ? "[]" : json);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    @Override
    public void close() {
        run(ip, "netns", "del", name);
    }

    /** Runs a command with a 30 s deadline; its stdout, or an AssertionError with its output. */
    static String run(String... command) {
        return Commands.run(command);
    }
}
