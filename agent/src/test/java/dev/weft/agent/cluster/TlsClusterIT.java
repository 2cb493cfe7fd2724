package dev.weft.agent.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.Main;
import dev.weft.agent.cli.CliIo;
import dev.weft.agent.tls.TestPki;
import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.tls.TlsMaterial;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two servers as separate JVMs on 127.0.0.1 with {@code -verify-incoming -verify-outgoing}: Raft and the client
 * agents' feed over mutual TLS. Agents holding certificates of a foreign CA are refused (a server trying to join,
 * a client agent following the servers), and certificates are rotated under a write load with SIGHUP and
 * {@code weft reload} without a failed write or a leader change.
 */
class TlsClusterIT {
    /** Writes allowed to fail during the rotation: none (established connections are never cut). */
    static final int ROTATION_FAILED_WRITES_TOLERANCE = 0;
    /** Concurrent writers during the rotation, half of them to each server's HTTPS port. */
    static final int WRITERS = 4;

    private record Pki(Path dir, TestPki.Written ca, List<TestPki.Written> servers, TestPki.Written client,
                       TestPki.Written foreignServer, TestPki.Written foreignClient) {
    }

    private static Pki pki(String test) throws Exception {
        Path dir = Path.of(System.getProperty("basedir", "."), "target", test + "-pki-" + System.nanoTime());
        TestPki.Written ca = TestPki.ca(dir, "ca");
        List<TestPki.Written> servers = List.of(TestPki.server(ca, dir, "n1"), TestPki.server(ca, dir, "n2"));
        TestPki.Written client = TestPki.client(ca, dir, "c1");
        Path foreign = dir.resolve("foreign");
        TestPki.Written foreignCa = TestPki.ca(foreign, "ca");
        return new Pki(dir, ca, servers, client, TestPki.server(foreignCa, foreign, "n3"),
                TestPki.client(foreignCa, foreign, "c2"));
    }

    private static List<String> tlsArgs(TestPki.Written ca, TestPki.Written own, boolean incoming, int httpsPort) {
        List<String> a = new ArrayList<>(List.of("-ca-file", ca.cert().toString(), "-cert-file", own.cert().toString(),
                "-key-file", own.key().toString(), "-verify-outgoing"));
        if (incoming) {
            a.add("-verify-incoming");
        }
        if (httpsPort >= 0) {
            a.addAll(List.of("-https-port", Integer.toString(httpsPort)));
        }
        return a;
    }

    /** Two mutual-TLS servers, each with an HTTPS listener on an ephemeral port. */
    private static ForkedCluster cluster(String test, Pki pki) throws IOException {
        AtomicInteger next = new AtomicInteger();
        return ForkedCluster.start(test, 2, p -> tlsArgs(pki.ca(), pki.servers().get(next.getAndIncrement()), true,
                0));
    }

    /** The HTTPS port a server printed in its banner. */
    private static int httpsPort(ForkedServer s) {
        java.util.regex.Pattern banner = java.util.regex.Pattern.compile("HTTPS API: https://127\\.0\\.0\\.1:(\\d+)");
        return Poll.until(Duration.ofSeconds(60), () -> s + " printing its HTTPS address", () -> {
            java.util.regex.Matcher m = banner.matcher(logOf(s));
            return m.find() ? Integer.parseInt(m.group(1)) : null;
        });
    }

    /** An extra agent (a joining server or a client agent) with its own ports, in the cluster's run dir. */
    private static ForkedServer extra(ForkedCluster c, String name, List<String> args) throws IOException {
        int[] ports = ForkedCluster.freeLoopbackPorts(3);
        Path data = c.runDir.resolve("data").resolve(name);
        List<String> all = new ArrayList<>(List.of("agent", "-node", name, "-bind", "127.0.0.1", "-data-dir",
                data.toString(), "-http-port", Integer.toString(ports[0]), "-raft-port", Integer.toString(ports[1]),
                "-dns-port", Integer.toString(ports[2]), "-registrator=false"));
        all.addAll(args);
        ForkedServer s = new ForkedServer(name, ports[0], ports[1], ports[2], data, c.runDir.resolve(name + ".log"),
                all);
        s.start();
        return s;
    }

    private static List<String> catalogNodes(ForkedCluster c, int port) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode n : c.http.json(port, "/v1/catalog/nodes")) {
            out.add(n.path("Node").asText());
        }
        return out;
    }

    private static String logOf(ForkedServer s) throws IOException {
        return Files.readString(s.log);
    }

    /**
     * A TLS refusal in a log line: JDK 17 clients send their certificate and get bad_certificate; newer JDKs (25)
     * send none when the server's list of CAs does not name theirs, and get certificate_required.
     */
    private static boolean refusal(String logLine) {
        return logLine.contains("bad_certificate") || logLine.contains("certificate_required");
    }

    @Test
    void mutualTlsClusterRefusesForeignCertificates() throws Exception {
        Pki pki = pki("TlsClusterIT");
        try (ForkedCluster c = cluster("TlsClusterIT", pki)) {
            try {
                ForkedServer n1 = c.servers.get(0);
                ForkedServer n2 = c.servers.get(1);
                int[] https = {httpsPort(n1), httpsPort(n2)};
                ForkedServer leader = c.awaitAgreedLeader(c.servers, Duration.ofSeconds(90));
                c.step("leader " + leader + "; writing through both servers (Raft over mutual TLS)");
                assertTrue(c.http.put(n1.httpPort, "tls/a", "1"));
                assertTrue(c.http.put(n2.httpPort, "tls/b", "2"));
                assertEquals(Map.of("tls/a", "1", "tls/b", "2"), c.http.recurse(n1.httpPort, "tls/", "consistent"));
                assertEquals(Map.of("tls/a", "1", "tls/b", "2"), c.http.recurse(n2.httpPort, "tls/", "consistent"));

                c.step("Raft port: a server certificate of the CA is accepted, others are refused");
                assertEquals(pki.servers().get(0).serial(),
                        TestPki.serverCertificate(n1.raftPort, pki.servers().get(1), true).getSerialNumber());
                IOException foreignRaft = assertThrows(IOException.class,
                        () -> TestPki.serverCertificate(n1.raftPort, pki.foreignServer(), true));
                c.step("foreign certificate on the Raft port: " + foreignRaft);
                assertThrows(IOException.class, () -> TestPki.serverCertificate(n1.raftPort, pki.client(), true),
                        "a client certificate may not speak Raft");
                assertThrows(IOException.class, () -> TestPki.serverCertificate(n1.raftPort, null, true),
                        "no certificate at all");

                c.step("a server with a foreign certificate tries to join");
                ForkedServer n3 = extra(c, "n3", concat(List.of("-server", "-bootstrap-expect", "0",
                        "-retry-join", n1.raftAddress(), "-retry-join", n2.raftAddress()),
                        tlsArgs(bundle(pki), pki.foreignServer(), true, -1)));
                try {
                    String refusal = Poll.until(Duration.ofSeconds(60), () -> "n3's join to fail on TLS; n3 log:\n"
                            + n3.tail(30), () -> logOf(n3).lines()
                            .filter(l -> l.contains("join via") && l.contains("failed: TLS handshake")
                                    && refusal(l))
                            .findFirst().orElse(null));
                    c.step("n3 refused: " + refusal);
                    JsonNode peers = c.http.json(n1.httpPort, "/v1/status/peers");
                    assertEquals(2, peers.size(), "peers " + peers);
                    assertFalse(peers.toString().contains(":" + n3.raftPort), "n3 is not a peer: " + peers);
                } finally {
                    n3.kill();
                }
                assertTrue(c.http.put(n1.httpPort, "tls/c", "3"), "the cluster still writes");

                c.step("a client agent with a foreign certificate follows n1's HTTPS port");
                String n1Https = "127.0.0.1:" + https[0];
                ForkedServer c2 = extra(c, "c2", concat(List.of("-retry-join", n1Https),
                        tlsArgs(bundle(pki), pki.foreignClient(), false, -1)));
                try {
                    String refusal = Poll.until(Duration.ofSeconds(60), () -> "c2's feed to fail on TLS; c2 log:\n"
                            + c2.tail(30), () -> logOf(c2).lines()
                            .filter(l -> l.contains("client feed: server " + n1Https + " unusable (")
                                    && refusal(l))
                            .findFirst().orElse(null));
                    c.step("c2 refused: " + refusal);
                    String c2Leader = Poll.until(Duration.ofSeconds(30), () -> "c2's HTTP API answering",
                            () -> c.http.leader(c2.httpPort));
                    assertEquals("", c2Leader, "c2 knows no leader");
                    assertFalse(catalogNodes(c, n1.httpPort).contains("c2"), "c2 never registered");
                } finally {
                    c2.kill();
                }

                c.step("a client agent with a certificate of the CA follows n1's HTTPS port and writes");
                ForkedServer c1 = extra(c, "c1", concat(List.of("-retry-join", n1Https),
                        tlsArgs(pki.ca(), pki.client(), true, -1)));
                try {
                    Poll.until(Duration.ofSeconds(60), () -> "c1 to know the leader; c1 log:\n" + c1.tail(30),
                            () -> {
                                String l = c.http.leader(c1.httpPort);
                                return l != null && !l.isEmpty();
                            });
                    assertTrue(c.http.put(c1.httpPort, "tls/from-c1", "4"));
                    assertEquals("4", c.http.recurse(n2.httpPort, "tls/from-c1", "consistent").get("tls/from-c1"));
                    Poll.until(Duration.ofSeconds(30), () -> "c1 in the catalog",
                            () -> catalogNodes(c, n1.httpPort).contains("c1"));
                    assertFalse(logOf(c1).contains("unusable"), "c1's feed never failed:\n" + c1.tail(30));
                } finally {
                    c1.kill();
                }

                KvHttpClient.Response plainFeed = c.http.send("GET", n1.httpPort, "/v1/internal/feed?index=0&wait=1ms",
                        null);
                assertEquals(403, plainFeed.status(), plainFeed.body());
            } catch (Throwable t) {
                throw new AssertionError(t.getMessage() + c.logTails(), t);
            }
        }
    }

    @Test
    void rotationUnderLoadKeepsWritesAndLeadership() throws Exception {
        Pki pki = pki("TlsRotation");
        try (ForkedCluster c = cluster("TlsRotation", pki)) {
            try {
                ForkedServer n1 = c.servers.get(0);
                ForkedServer n2 = c.servers.get(1);
                int[] https = {httpsPort(n1), httpsPort(n2)};
                ForkedServer leader = c.awaitAgreedLeader(c.servers, Duration.ofSeconds(90));
                String leaderAddr = c.http.leader(n1.httpPort);
                c.step("leader " + leader + "; starting " + WRITERS + " writers over HTTPS to both servers");
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger acked = new AtomicInteger();
                List<String> failures = Collections.synchronizedList(new ArrayList<>());
                List<String> leaders = Collections.synchronizedList(new ArrayList<>());
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int port = https[w % 2];
                    String name = "w" + w;
                    Thread t = new Thread(() -> writer(pki, port, name, stop, acked, failures), name);
                    t.start();
                    threads.add(t);
                }
                Thread watcher = new Thread(() -> {
                    while (!stop.get()) {
                        String l = c.http.leader(n1.httpPort);
                        if (l != null && !l.equals(leaderAddr)) {
                            leaders.add(l);
                        }
                        try {
                            TimeUnit.MILLISECONDS.sleep(100); // sampling interval of the leader watch, not a wait
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "leader-watch");
                watcher.start();
                Poll.until(Duration.ofSeconds(30), () -> "100 writes before the rotation", () -> acked.get() >= 100);

                c.step("rotating: new certificates (same CA) for both servers; SIGHUP to n1, weft reload on n2");
                TestPki.Written new1 = TestPki.server(pki.ca(), pki.dir(), "n1");
                TestPki.Written new2 = TestPki.server(pki.ca(), pki.dir(), "n2");
                Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(n1.pid())).start();
                assertEquals(0, hup.waitFor(), "kill -HUP " + n1.pid());
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                        new ByteArrayInputStream(new byte[0]), Map.of()), "reload", "-http-addr",
                        "127.0.0.1:" + n2.httpPort);
                assertEquals(0, code, err.toString());
                String serial2 = TlsMaterial.serialHex(new2.serial());
                assertTrue(out.toString().contains("serial " + serial2), out.toString());
                String serial1 = TlsMaterial.serialHex(new1.serial());
                Poll.until(Duration.ofSeconds(20), () -> "n1 logging its reload", () -> logOf(n1)
                        .contains("TLS reloaded: certificate serial " + serial1));
                int atRotation = acked.get();
                Poll.until(Duration.ofSeconds(60), () -> "300 writes after the rotation",
                        () -> acked.get() >= atRotation + 300);
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
                watcher.join(5_000);
                c.step(acked.get() + " writes acknowledged, " + failures.size() + " failed, leader changes "
                        + leaders);

                assertTrue(failures.size() <= ROTATION_FAILED_WRITES_TOLERANCE, "failed writes: " + failures);
                assertEquals(List.of(), leaders, "the leader never changed");
                assertEquals(leaderAddr, c.http.leader(n2.httpPort));
                assertEquals(acked.get(), c.http.keys(n2.httpPort, "rot/", "consistent").size(),
                        "every acknowledged write is there");

                c.step("new TLS connections present the new certificates (HTTPS and Raft)");
                assertEquals(new1.serial(), TestPki.serverCertificate(https[0], pki.client(), false)
                        .getSerialNumber());
                assertEquals(new2.serial(), TestPki.serverCertificate(https[1], pki.client(), false)
                        .getSerialNumber());
                assertEquals(new1.serial(), TestPki.serverCertificate(n1.raftPort, new2, true).getSerialNumber());
                assertEquals(new2.serial(), TestPki.serverCertificate(n2.raftPort, new1, true).getSerialNumber());
                assertTrue(c.http.put(n2.httpPort, "after/rotation", "ok"), "writes still replicate");
            } catch (Throwable t) {
                throw new AssertionError(t.getMessage() + c.logTails(), t);
            }
        }
    }

    /** PUTs over HTTPS with the client certificate; a fresh HttpClient (new handshakes) every 20 writes. */
    private static void writer(Pki pki, int port, String name, AtomicBoolean stop, AtomicInteger acked,
                               List<String> failures) {
        HttpClient client = null;
        for (int i = 0; !stop.get(); i++) {
            try {
                if (i % 20 == 0) {
                    client = HttpClient.newBuilder().sslContext(sslContext(pki))
                            .connectTimeout(Duration.ofSeconds(3)).build();
                }
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                                + "/v1/kv/rot/" + name + "-" + i)).timeout(Duration.ofSeconds(10))
                        .PUT(HttpRequest.BodyPublishers.ofString(Integer.toString(i))).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().strip().equals("true")) {
                    acked.incrementAndGet();
                } else {
                    failures.add(name + "-" + i + ": HTTP " + r.statusCode() + " " + r.body());
                }
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                failures.add(name + "-" + i + ": " + e);
            }
        }
    }

    private static SSLContext sslContext(Pki pki) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("c", pki.client().issued().key(), new char[0],
                new Certificate[] {pki.client().issued().certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", pki.ca().issued().certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /**
     * A CA file holding the foreign CA and the cluster's CA: the foreign agent accepts its own certificate and
     * trusts the cluster's servers, so the refusal seen is the cluster refusing the foreign certificate.
     */
    private static TestPki.Written bundle(Pki pki) throws IOException {
        Path foreignDir = pki.foreignServer().cert().getParent();
        Path both = foreignDir.resolve("both-cas.pem");
        Files.writeString(both, Files.readString(foreignDir.resolve("ca.pem")) + Files.readString(pki.ca().cert()));
        return new TestPki.Written(both, null, null);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
