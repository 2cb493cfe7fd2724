package dev.weft.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs {@code examples/consul-clients/run.sh} as a user would: against a real {@code weft agent -dev} (the jar this
 * build made, on free loopback ports, stopped by its PID afterwards), and checks what the program prints. A second
 * test puts a proxy between the program and the agent that answers every check-and-set with {@code true}, and
 * checks that the program notices: so a weft that answered wrongly would fail this test.
 */
class ConsulClientsExampleIT {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path RUN = ROOT.resolve("examples/consul-clients/run.sh");
    private static final Duration LIMIT = Duration.ofMinutes(2);
    private static Process agent;
    private static Path agentLog;
    private static int httpPort;

    @BeforeAll
    static void startDevAgent() throws Exception {
        Path jar = ROOT.resolve("agent/target/weft.jar");
        assertTrue(Files.isRegularFile(jar), "the build made no " + jar);
        assertTrue(Files.isRegularFile(ROOT.resolve("examples/consul-clients/target/consul-clients.jar")),
                "the build made no examples/consul-clients/target/consul-clients.jar");
        httpPort = freeTcpPort();
        int raftPort = freeTcpPort();
        int dnsPort = freeUdpAndTcpPort();
        agentLog = ROOT.resolve("examples/target/consul-clients-agent.log");
        Files.createDirectories(agentLog.getParent());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        agent = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar",
                jar.toString(), "agent", "-dev", "-http-port", Integer.toString(httpPort), "-dns-port",
                Integer.toString(dnsPort), "-raft-port", Integer.toString(raftPort), "-registrator=false")
                .redirectErrorStream(true).redirectOutput(agentLog.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        Poll.until(Duration.ofSeconds(90), () -> "a leader of the -dev agent (log " + agentLog + ")", () -> {
            assertTrue(agent.isAlive(), "the agent exited:\n" + Files.readString(agentLog));
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + httpPort + "/v1/status/leader"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().length() > 2; // IOException: not listening yet, polled again
        });
    }

    @AfterAll
    static void stopAgent() throws InterruptedException {
        if (agent != null) {
            agent.destroy(); // SIGTERM to the PID we started
            if (!agent.waitFor(20, TimeUnit.SECONDS)) {
                agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theConsulClientLibraryGetsConsulsAnswersFromWeft() throws Exception {
        Result r = run(httpPort);
        assertEquals(0, r.code, "run.sh failed:\n" + r.output);
        assertFalse(r.output.contains("WRONG"), r.output);
        assertTrue(r.output.contains("OK: KV, lock, service discovery and a blocking query all answered as Consul does"),
                r.output);
        for (String line : List.of(
                "kv put/get: consul-clients-demo/config/db/url = postgres://db-1:5432",
                "kv list: 3 keys under consul-clients-demo/config/, 2 under config/db/",
                "kv delete: stale cas delete refused, delete, recursive delete of config/",
                "a acquires -> true; b tries -> false (refused while a holds it)",
                "lock: a releases -> true; now b acquires -> true",
                "sessions destroyed: the lock is free again",
                "2 in the catalog, 0 passing",
                "?passing -> greeter-1@127.0.0.21:8080, greeter-2@127.0.0.22:8080")) {
            assertTrue(r.output.contains(line), "missing \"" + line + "\" in:\n" + r.output);
        }
        assertTrue(Pattern.compile("kv cas: with ModifyIndex \\d+ -> true, again with the same index -> false")
                .matcher(r.output).find(), r.output);
        assertTrue(Pattern.compile("blocking query at index \\d+ \\(still waiting after 1 s\\) returned [0-4]\\.\\d\\d s "
                + "after greeter-2's check failed: passing -> greeter-1").matcher(r.output).find(), r.output);
        assertTrue(Pattern.compile("(?m)^  total \\d+\\.\\d s$").matcher(r.output).find(), r.output);

        Result again = run(httpPort);
        assertEquals(0, again.code, "a second run against the same agent failed:\n" + again.output);
    }

    @Test
    void theProgramNoticesAWrongAnswer() throws Exception {
        HttpServer liar = lyingProxy(httpPort);
        try {
            Result r = run(liar.getAddress().getPort());
            assertEquals(1, r.code, "the program accepted a wrong answer:\n" + r.output);
            assertTrue(r.output.contains("WRONG: CAS with the old ModifyIndex"), r.output);
        } finally {
            liar.stop(0);
        }
    }

    /** Passes every request on to the agent, except that any PUT with {@code cas=} is answered {@code true}. */
    private static HttpServer lyingProxy(int agentPort) throws IOException {
        HttpClient http = HttpClient.newHttpClient();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", (HttpExchange ex) -> {
            try (ex) {
                String query = ex.getRequestURI().getRawQuery();
                byte[] body = ex.getRequestBody().readAllBytes();
                if ("PUT".equals(ex.getRequestMethod()) && query != null && query.contains("cas=")) {
                    byte[] yes = "true".getBytes(StandardCharsets.UTF_8);
                    ex.getResponseHeaders().add("Content-Type", "application/json");
                    ex.sendResponseHeaders(200, yes.length);
                    ex.getResponseBody().write(yes);
                    return;
                }
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agentPort
                                + ex.getRequestURI().getRawPath() + (query == null ? "" : "?" + query)))
                        .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
                HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                r.headers().map().forEach((k, v) -> {
                    if (k.startsWith("x-consul") || k.equals("content-type")) {
                        v.forEach(value -> ex.getResponseHeaders().add(k, value));
                    }
                });
                ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
                ex.getResponseBody().write(r.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        return server;
    }

    private static int freeTcpPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A port free for both UDP and TCP on 127.0.0.1 (the agent's DNS server listens on both). */
    private static int freeUdpAndTcpPort() throws IOException {
        for (int i = 0; i < 50; i++) {
            try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                 ServerSocket tcp = new ServerSocket(udp.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                return tcp.getLocalPort();
            } catch (IOException e) {
                // taken for TCP: try another
            }
        }
        throw new IOException("no port free for both UDP and TCP");
    }

    private record Result(int code, String output) {
    }

    private static Result run(int port) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(RUN.toString()).redirectErrorStream(true);
        pb.environment().putAll(Map.of("CONSUL_HTTP_ADDR", "127.0.0.1:" + port));
        Path out = Files.createTempFile("weft-consul-clients-it-", ".out");
        try {
            Process p = pb.redirectOutput(out.toFile()).start();
            if (!p.waitFor(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
                fail(RUN + " did not finish within " + LIMIT + ":\n" + Files.readString(out));
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            Files.writeString(ROOT.resolve("examples/target/consul-clients-it.log"), "===== run.sh against port "
                            + port + " (exit " + p.exitValue() + ")\n" + text, StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            return new Result(p.exitValue(), text);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
