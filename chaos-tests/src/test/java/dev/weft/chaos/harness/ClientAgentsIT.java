package dev.weft.chaos.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.chaos.check.Linearizability;
import dev.weft.chaos.history.History;
import dev.weft.chaos.history.History.Call;
import dev.weft.chaos.history.History.Pending;
import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client agents (issue 8) as separate processes on loopback: 3 servers and 5 clients. Every client starts with
 * only the first server as its seed and learns the others from the feed. The cases run in order on one cluster:
 * linearizable writes through clients, DNS across clients, all servers down (clients keep answering DNS and
 * {@code ?stale}), servers back (clients catch up without restart), a client far behind (catches up by
 * snapshot), and a server set that changes under running clients.
 */
class ClientAgentsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Servers keep this few entries for clients, so that a paused client must catch up by snapshot. */
    private static final int FEED_ENTRIES = 200;
    /** A client agent's JVM, as the launcher runs it: the options of agent/client-jvm.options. */
    private static List<String> clientJvm() throws IOException {
        Path file = Path.of(System.getProperty("weft.clientJvmOptions", "../agent/client-jvm.options"));
        List<String> opts = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            int hash = line.indexOf('#');
            for (String o : (hash < 0 ? line : line.substring(0, hash)).trim().split("\\s+")) {
                if (!o.isEmpty()) {
                    opts.add(o);
                }
            }
        }
        return opts;
    }

    private Toxiproxy toxiproxy;
    private Cluster cluster;
    private final List<Member> clients = new ArrayList<>();
    private Member extraServer;
    private EventLog events;
    private final Http http = new Http(Duration.ofSeconds(15));

    @AfterEach
    void tearDown() {
        for (Member c : clients) {
            c.kill();
        }
        if (extraServer != null) {
            extraServer.kill();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (toxiproxy != null) {
            toxiproxy.close();
        }
    }

    @Test
    void clientAgentsServeTheWholeApiWithoutAVote() throws Exception {
        Requires.that(Toxiproxy.findServer() != null, "the Toxiproxy server (go install "
                + "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, or TOXIPROXY_SERVER)");
        Path jar = Path.of(System.getProperty("weft.jar", "../agent/target/weft.jar"));
        Requires.that(Files.isRegularFile(jar), "the agent jar " + jar);
        Path dir = Path.of(System.getProperty("basedir", "."), "target", "client-agents",
                Long.toString(System.currentTimeMillis()));
        Files.createDirectories(dir);
        toxiproxy = Toxiproxy.start(Toxiproxy.findServer(), dir.resolve("toxiproxy.log"));
        events = new EventLog(dir.resolve("events.log"), System.out);
        cluster = Cluster.start(toxiproxy, dir, 3, jar, Cluster.Settings.DEFAULT.withJvmArgs(
                List.of("-Xmx192m", "-Dweft.feed.max-entries=" + FEED_ENTRIES)), events);
        cluster.awaitAgreedLeader(Duration.ofSeconds(90));
        Member seed = cluster.members().get(0);

        int[] ports = Ports.freeLoopbackPorts(10);
        List<String> clientJvm = clientJvm();
        for (int i = 1; i <= 5; i++) {
            int httpPort = ports[i - 1];
            int dnsPort = ports[4 + i];
            String name = "c" + i;
            List<String> args = List.of("agent", "-node", name, "-bind", "127.0.0.1",
                    "-retry-join", "127.0.0.1:" + seed.httpPort,
                    "-data-dir", dir.resolve("data").resolve(name).toString(),
                    "-http-port", Integer.toString(httpPort), "-dns-port", Integer.toString(dnsPort),
                    "-registrator=false");
            Files.writeString(dir.resolve("c" + i + ".hosts"), "127.0.0.1 localhost\n");
            // as the launcher runs a client: its JVM options and two glibc malloc arenas
            Member c = new Member(10 + i, name, 0, httpPort, dnsPort, dir, jar, args).jvmArgs(clientJvm)
                    .env(Map.of("MALLOC_ARENA_MAX", "2"));
            clients.add(c);
            c.start();
        }
        events.log("test", "started clients " + clients);
        for (Member c : clients) {
            poll(Duration.ofSeconds(60), c.name + " knowing all 3 servers", () ->
                    peers(c).size() == 3 ? Boolean.TRUE : null);
            JsonNode self = JSON.readTree(http.get(c.httpPort, "/v1/agent/self").body());
            assertFalse(self.get("Config").get("Server").asBoolean(), c.name + " must be a client");
        }
        assertEquals(3, peers(seed).size(), "clients hold no vote: the Raft configuration has the 3 servers");

        linearizableWritesThroughClients();
        registrationOnOneClientAnswersInDnsOnAnother();
        clientsKeepAnsweringWhileEveryServerIsDown();
        aClientFarBehindCatchesUpFromASnapshot();
        clientsFollowAChangingServerSet(dir, jar);
    }

    // ---- cases -------------------------------------------------------------------------------------------

    private void linearizableWritesThroughClients() throws Exception {
        History h = new History();
        AtomicInteger seq = new AtomicInteger();
        long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        for (int p = 0; p < clients.size(); p++) {
            int process = p;
            Member c = clients.get(p);
            Thread t = new Thread(() -> {
                Random rnd = new Random(process);
                try {
                    while (System.nanoTime() < until) {
                        registerOp(h, process, c, rnd, seq);
                    }
                } catch (RuntimeException e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            }, "register-" + c.name);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(errors.isEmpty(), errors.toString());
        long oks = h.operations().stream().filter(op -> op.outcome() == dev.weft.chaos.history.Operation.Outcome.OK)
                .count();
        events.log("test", "register history through clients: " + h.size() + " operations, " + oks + " ok");
        assertTrue(oks >= 50, "too few completed operations through clients: " + oks);
        Linearizability.Result result = new Linearizability().check(h);
        assertEquals(Linearizability.Verdict.LINEARIZABLE, result.verdict(), result.describe());
    }

    private void registerOp(History h, int p, Member c, Random rnd, AtomicInteger seq) {
        String key = "reg/k" + rnd.nextInt(2);
        int dice = rnd.nextInt(100);
        try {
            if (dice < 40) {
                String q = rnd.nextBoolean() ? "?consistent" : "";
                Pending op = h.invoke(Call.read(p, key).on(c.name));
                Http.Response r = http.get(c.httpPort, "/v1/kv/" + key + q);
                Entry e = entry(r);
                if (e == null) {
                    op.fail();
                } else {
                    op.read(e.value(), e.index() == 0 ? null : e.index());
                }
            } else if (dice < 75) {
                String value = "p" + p + "-" + seq.incrementAndGet();
                Pending op = h.invoke(Call.write(p, key, value).on(c.name));
                Http.Response r = http.put(c.httpPort, "/v1/kv/" + key, value);
                if (r.ok()) {
                    op.ok();
                } else {
                    op.unknown();
                }
            } else {
                Pending read = h.invoke(Call.read(p, key).on(c.name));
                Entry seen = entry(http.get(c.httpPort, "/v1/kv/" + key + "?consistent"));
                if (seen == null) {
                    read.fail();
                    return;
                }
                read.read(seen.value(), seen.index() == 0 ? null : seen.index());
                String value = "p" + p + "-" + seq.incrementAndGet();
                Pending op = h.invoke(Call.casIndex(p, key, seen.index(), seen.value(), value).on(c.name));
                Http.Response r = http.put(c.httpPort, "/v1/kv/" + key + "?cas=" + seen.index(), value);
                String b = r.body().trim();
                if (r.ok() && (b.equals("true") || b.equals("false"))) {
                    op.applied(b.equals("true"));
                } else {
                    op.unknown();
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("request through " + c.name + " failed: " + e, e);
        }
    }

    private void registrationOnOneClientAnswersInDnsOnAnother() throws IOException {
        Member a = clients.get(0);
        Member b = clients.get(1);
        Http.Response r = http.put(a.httpPort, "/v1/agent/service/register",
                "{\"Name\":\"web\",\"ID\":\"web-1\",\"Address\":\"127.0.0.77\",\"Port\":8080}");
        assertEquals(200, r.status(), r.body());
        poll(Duration.ofSeconds(20), "web.service.weft on " + b.name, () ->
                aRecords(b, "web.service.weft.").contains("127.0.0.77") ? Boolean.TRUE : null);
        events.log("test", "registered web on " + a.name + "; " + b.name + " answers it in DNS");
    }

    private void clientsKeepAnsweringWhileEveryServerIsDown() throws IOException {
        Http.Response put = http.put(clients.get(2).httpPort, "/v1/kv/outage", "before");
        assertEquals(200, put.status(), put.body());
        for (Member c : clients) {
            poll(Duration.ofSeconds(20), c.name + " seeing 'before'", () ->
                    "before".equals(rawStale(c)) ? Boolean.TRUE : null);
        }
        for (Member s : cluster.members()) {
            cluster.kill(s);
        }
        events.log("test", "killed every server");
        for (Member c : clients) {
            assertTrue(aRecords(c, "web.service.weft.").contains("127.0.0.77"),
                    c.name + " must answer DNS from its view with every server down");
            Http.Response r = http.get(c.httpPort, "/v1/kv/outage?stale&raw");
            assertEquals(200, r.status(), c.name + " stale read with every server down: " + r.body());
            assertEquals("before", r.body());
        }
        Member probe = clients.get(3);
        poll(Duration.ofSeconds(30), probe.name + " reporting that it knows no leader", () -> {
            java.net.http.HttpResponse<String> r = rawGet(probe, "/v1/kv/outage?stale");
            return "false".equals(r.headers().firstValue("X-Consul-KnownLeader").orElse(""))
                    && Long.parseLong(r.headers().firstValue("X-Consul-LastContact").orElse("0")) > 0
                    ? Boolean.TRUE : null;
        });
        Http.Response consistent = http.get(probe.httpPort, "/v1/kv/outage?consistent");
        assertNotEquals(200, consistent.status(), "a consistent read cannot succeed without servers");

        for (Member s : cluster.members()) {
            cluster.restart(s);
        }
        events.log("test", "restarted every server");
        cluster.awaitAgreedLeader(Duration.ofSeconds(90));
        poll(Duration.ofSeconds(60), "a write through " + probe.name + " after the outage", () ->
                http.put(probe.httpPort, "/v1/kv/outage", "after").ok() ? Boolean.TRUE : null);
        for (Member c : clients) {
            poll(Duration.ofSeconds(30), c.name + " catching up without restart", () ->
                    "after".equals(rawStale(c)) ? Boolean.TRUE : null);
            assertEquals(1, c.starts(), c.name + " was not restarted");
        }
    }

    private void aClientFarBehindCatchesUpFromASnapshot() throws Exception {
        Member behind = clients.get(4);
        Member writer = clients.get(0);
        double before = cluster.metric(behind, "weft_client_feed_snapshots_total", null);
        signal("STOP", behind);
        events.log("test", "paused " + behind.name + " (SIGSTOP)");
        try {
            for (int i = 0; i < FEED_ENTRIES + 100; i++) {
                Http.Response r = http.put(writer.httpPort, "/v1/kv/far/k" + (i % 10), "v" + i);
                assertEquals(200, r.status(), r.body());
            }
        } finally {
            signal("CONT", behind);
        }
        events.log("test", "resumed " + behind.name + " after " + (FEED_ENTRIES + 100) + " writes");
        String last = "v" + (FEED_ENTRIES + 99);
        poll(Duration.ofSeconds(30), behind.name + " catching up", () ->
                last.equals(raw(behind, "/v1/kv/far/k" + ((FEED_ENTRIES + 99) % 10) + "?stale&raw")) ? Boolean.TRUE
                        : null);
        double after = cluster.metric(behind, "weft_client_feed_snapshots_total", null);
        assertTrue(after > before, behind.name + " should have caught up from a snapshot (snapshots " + before
                + " -> " + after + ")");
        // a default read through it agrees with the others
        assertEquals(last, raw(behind, "/v1/kv/far/k" + ((FEED_ENTRIES + 99) % 10) + "?raw"));
    }

    private void clientsFollowAChangingServerSet(Path dir, Path jar) throws Exception {
        Member n1 = cluster.members().get(0);
        int[] ports = Ports.freeLoopbackPorts(3);
        List<String> args = new ArrayList<>(List.of("agent", "-server", "-node", "n4", "-bind", "127.0.0.1",
                "-data-dir", dir.resolve("data").resolve("n4").toString(),
                "-raft-port", Integer.toString(ports[0]), "-http-port", Integer.toString(ports[1]),
                "-dns-port", Integer.toString(ports[2]), "-registrator=false"));
        for (Member s : cluster.members()) {
            args.addAll(List.of("-retry-join", s.raftAddress()));
        }
        // n4 reaches the others directly, not through the link proxies
        StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
        for (Member s : cluster.members()) {
            hosts.append("127.0.0.1 ").append(s.host).append('\n');
        }
        Files.writeString(dir.resolve("n4.hosts"), hosts.toString());
        extraServer = new Member(4, ports[0], ports[1], ports[2], dir, jar, args);
        extraServer.start();
        events.log("test", "started server n4 joining " + cluster.members());
        String n4Raft = "127.0.0.1:" + ports[0];
        for (Member c : clients) {
            poll(Duration.ofSeconds(90), c.name + " learning of n4", () ->
                    peers(c).contains(n4Raft) ? Boolean.TRUE : null);
        }
        // Remove the seed through a client (forwarded to a server), then stop it.
        String n1Id = null;
        for (JsonNode s : JSON.readTree(http.get(clients.get(1).httpPort, "/v1/operator/raft/configuration")
                .body()).get("Servers")) {
            if (s.get("Address").asText().equals(n1.raftAddress())) {
                n1Id = s.get("ID").asText();
            }
        }
        assertTrue(n1Id != null, "n1 in the Raft configuration");
        Http.Response rm = http.send("DELETE", clients.get(1).httpPort, "/v1/operator/raft/peer?id=" + n1Id);
        assertEquals(200, rm.status(), rm.body());
        cluster.kill(n1);
        events.log("test", "removed and stopped n1, the seed every client started with");
        for (Member c : clients) {
            poll(Duration.ofSeconds(30), c.name + " forgetting n1", () -> {
                Set<String> p = peers(c);
                return p.size() == 3 && !p.contains(n1.raftAddress()) ? Boolean.TRUE : null;
            });
        }
        for (Member c : clients) {
            poll(Duration.ofSeconds(30), "a write through " + c.name + " without its seed", () ->
                    http.put(c.httpPort, "/v1/kv/after-n1/" + c.name, "ok").ok() ? Boolean.TRUE : null);
        }
        Member reader = clients.get(2);
        for (Member c : clients) {
            assertEquals("ok", raw(reader, "/v1/kv/after-n1/" + c.name + "?raw"));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    /** {@link Deadline#poll} where a failed request (a member still starting, a timeout) means "not yet". */
    private static <T> T poll(Duration within, String what, Deadline.Probe<T> probe) throws IOException {
        return Deadline.poll(within, what, () -> {
            try {
                return probe.get();
            } catch (IOException e) {
                return null;
            }
        });
    }

    private record Entry(String value, long index) {
    }

    private static Entry entry(Http.Response r) throws IOException {
        if (r.status() == 404) {
            return new Entry(null, 0);
        }
        if (!r.ok()) {
            return null;
        }
        JsonNode node = JSON.readTree(r.body()).get(0);
        JsonNode v = node.get("Value");
        String value = v == null || v.isNull() ? "" : new String(Base64.getDecoder().decode(v.asText()),
                StandardCharsets.UTF_8);
        return new Entry(value, node.get("ModifyIndex").asLong());
    }

    private Set<String> peers(Member m) throws IOException {
        Http.Response r = http.get(m.httpPort, "/v1/status/peers");
        Set<String> out = new TreeSet<>();
        if (r.ok()) {
            JSON.readTree(r.body()).forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    private String rawStale(Member m) throws IOException {
        return raw(m, "/v1/kv/outage?stale&raw");
    }

    private String raw(Member m, String path) throws IOException {
        Http.Response r = http.get(m.httpPort, path);
        return r.ok() ? r.body() : null;
    }

    private static java.net.http.HttpResponse<String> rawGet(Member m, String path) throws IOException {
        try {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + m.httpPort + path)).timeout(Duration.ofSeconds(10))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static List<String> aRecords(Member m, String name) throws IOException {
        SimpleResolver r = new SimpleResolver(InetAddress.getLoopbackAddress());
        r.setPort(m.dnsPort);
        r.setTimeout(Duration.ofSeconds(3));
        Message q = Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN));
        Message resp = r.send(q);
        List<String> out = new ArrayList<>();
        if (resp.getRcode() != Rcode.NOERROR) {
            return out;
        }
        for (Record rec : resp.getSection(Section.ANSWER)) {
            if (rec instanceof ARecord a) {
                out.add(a.getAddress().getHostAddress());
            }
        }
        return out;
    }

    /** Sends SIGSTOP/SIGCONT to a process this test started (by its PID). */
    private static void signal(String sig, Member m) throws IOException, InterruptedException {
        long pid = m.pid();
        assertTrue(pid > 0, m.name + " is not running");
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertEquals(0, p.waitFor(), "kill -" + sig + " " + pid);
    }
}
