package dev.weft.agent.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client agent holds the whole catalog in its heap, which the launcher caps ({@code agent/client-jvm.options}).
 * When the catalog outgrows it, the client must exit (so that its supervisor restarts it, with a larger heap if
 * need be), not keep serving DNS and reads from a view its dead feed thread no longer updates, as it did before
 * {@code -XX:+ExitOnOutOfMemoryError}. A 1-server cluster and one client agent with the launcher's client options
 * and a 24 MiB heap, as separate processes; services with large metadata fill the client's view.
 */
class ClientHeapIT {
    private static final Duration WITHIN = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** More than the server's heap would want, far more than the client's: it exits well before. */
    private static final int MAX_SERVICES = 3000;

    @Test
    void aClientWhoseCatalogOutgrowsItsHeapExitsInsteadOfServingAFrozenView() throws Exception {
        try (ForkedCluster c = ForkedCluster.start("client-heap-it", 1, p -> List.of())) {
            ForkedServer client = null;
            try {
                ForkedServer server = c.awaitAgreedLeader(c.servers, WITHIN);
                int[] ports = ForkedCluster.freeLoopbackPorts(2);
                List<String> args = List.of("agent", "-node", "c1", "-bind", "127.0.0.1",
                        "-retry-join", "127.0.0.1:" + server.httpPort, "-data-dir",
                        c.runDir.resolve("data").resolve("c1").toString(), "-http-port", Integer.toString(ports[0]),
                        "-dns-port", Integer.toString(ports[1]), "-registrator=false");
                List<String> jvm = new ArrayList<>(clientJvmOptions());
                jvm.add("-Xmx24m"); // the last -Xmx wins
                client = new ForkedServer("c1", ports[0], 0, ports[1], c.runDir.resolve("data").resolve("c1"),
                        c.runDir.resolve("c1.log"), args).jvmArgs(jvm);
                scenario(c, server, client);
                c.deleteData(); // logs stay under target/ for reading
            } catch (Throwable t) {
                throw new AssertionError(t + "\n" + c.logTails() + (client == null ? "" : "\n" + client.tail(30)), t);
            } finally {
                if (client != null) {
                    client.kill();
                }
            }
        }
    }

    private static void scenario(ForkedCluster c, ForkedServer server, ForkedServer client) throws Exception {
        KvHttpClient http = c.http;
        c.step("start the client agent c1 with a 24 MiB heap");
        client.start();
        Poll.until(WITHIN, () -> "c1 to know the leader", () -> {
            String leader = http.leader(client.httpPort);
            return leader != null && !leader.isEmpty();
        });
        register(http, server, 0);
        Poll.until(WITHIN, () -> "c1's view to have the first service", () ->
                http.send("GET", client.httpPort, "/v1/catalog/service/big-0?stale", null).body()
                        .contains("big-0"));

        c.step("register services with large metadata until c1 exits");
        int n = 1;
        while (client.isAlive() && n < MAX_SERVICES) {
            register(http, server, n++);
        }
        int registered = n;
        Poll.until(WITHIN, () -> "c1 to exit once its view outgrew its heap (" + registered + " services)",
                () -> !client.isAlive());
        String log = Files.readString(client.log, StandardCharsets.UTF_8);
        assertTrue(log.contains("Terminating due to java.lang.OutOfMemoryError"), "the JVM says why it exits");
        assertEquals(3, client.exitCode(), "the exit code of -XX:+ExitOnOutOfMemoryError");
        c.step("c1 exited after " + registered + " services");
    }

    /** One service of about 13 KB of metadata (32 pairs of 400-byte values) on its own node. */
    private static void register(KvHttpClient http, ForkedServer server, int n) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("Node", "node-" + (n % 50));
        body.put("Address", "127.0.0." + (n % 50 + 1));
        ObjectNode service = body.putObject("Service");
        service.put("ID", "big-" + n);
        service.put("Service", "big-" + n);
        service.put("Port", 8080);
        ObjectNode meta = service.putObject("Meta");
        for (int i = 0; i < 32; i++) {
            meta.put("k" + i, (n + "-" + i + "-").repeat(400).substring(0, 400));
        }
        KvHttpClient.Response r = http.send("PUT", server.httpPort, "/v1/catalog/register", body.toString());
        assertEquals(200, r.status(), r.body());
    }

    /** agent/client-jvm.options, as the launcher reads it ('#' starts a comment). */
    private static List<String> clientJvmOptions() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(System.getProperty("basedir", "."), "client-jvm.options"))) {
            int hash = line.indexOf('#');
            for (String o : (hash < 0 ? line : line.substring(0, hash)).trim().split("\\s+")) {
                if (!o.isEmpty()) {
                    out.add(o);
                }
            }
        }
        return out;
    }
}
