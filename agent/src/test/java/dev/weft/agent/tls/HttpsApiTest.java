package dev.weft.agent.tls;

import dev.weft.agent.AgentConfig;
import dev.weft.agent.AgentServer;
import dev.weft.agent.Main;
import dev.weft.agent.OverlaySettings;
import dev.weft.agent.RegistratorSettings;
import dev.weft.agent.cli.CliIo;
import dev.weft.kvstore.feed.FeedProtocol;
import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import dev.weft.kvstore.tls.TlsSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTPS API of a server with {@code -verify-incoming}, checked with curl: a client certificate signed by the
 * CA is required; {@code /v1/internal/} is refused on the plain port; {@code weft reload} and {@code PUT
 * /v1/agent/reload} switch new handshakes to a new certificate and keep the old one when the new files are bad.
 */
class HttpsApiTest {
    @TempDir
    Path dir;
    private AgentServer agent;
    private TestPki.Written ca;
    private TestPki.Written server;
    private TestPki.Written client;
    private TestPki.Written foreignClient;
    private String curl;

    @BeforeEach
    void start() throws Exception {
        curl = Requires.command("curl");
        ca = TestPki.ca(dir.resolve("pki"), "ca");
        server = TestPki.server(ca, dir.resolve("pki"), "server");
        client = TestPki.client(ca, dir.resolve("pki"), "client");
        TestPki.Written foreignCa = TestPki.ca(dir.resolve("foreign"), "ca");
        foreignClient = TestPki.client(foreignCa, dir.resolve("foreign"), "client");
        AgentConfig cfg = AgentConfig.defaults("https-node", dir.resolve("data")).withEphemeralPorts();
        cfg = cfg.withDiscovery(cfg.discovery().withRegistrator(RegistratorSettings.off()));
        TlsSettings tls = new TlsSettings(ca.cert(), server.cert(), server.key(), true, true, "server.dc1.weft");
        agent = AgentServer.start(cfg, OverlaySettings.off(), dev.weft.kvstore.acl.AclConfig.DISABLED,
                new AgentServer.TlsOptions(tls, 0));
        AgentServer a = agent;
        Poll.until(Duration.ofSeconds(30), () -> "leader", () -> a.status().isLeader());
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    private record Curl(int code, String out) {
    }

    private Curl curl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(curl, "-sS", "--max-time", "10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "curl finished");
        return new Curl(p.exitValue(), out);
    }

    private String https(String path) {
        return "https://127.0.0.1:" + agent.httpsAddress().getPort() + path;
    }

    @Test
    void httpsNeedsAClientCertificateSignedByTheCa() throws Exception {
        Curl ok = curl("--fail", "--cacert", ca.cert().toString(), "--cert", client.cert().toString(), "--key",
                client.key().toString(), https("/v1/agent/self"));
        assertEquals(0, ok.code(), ok.out());
        assertTrue(ok.out().contains("\"NodeName\":\"https-node\""), ok.out());

        Curl noCert = curl("--cacert", ca.cert().toString(), https("/v1/agent/self"));
        assertNotEquals(0, noCert.code(), "without a client certificate: " + noCert.out());
        assertFalse(noCert.out().contains("NodeName"), noCert.out());

        Curl foreign = curl("--cacert", ca.cert().toString(), "--cert", foreignClient.cert().toString(), "--key",
                foreignClient.key().toString(), https("/v1/agent/self"));
        assertNotEquals(0, foreign.code(), "with a certificate of another CA: " + foreign.out());
        assertFalse(foreign.out().contains("NodeName"), foreign.out());

        // the server's certificate names 127.0.0.1: curl's own host-name check passes without -k
        Curl kv = curl("--fail", "-X", "PUT", "--data", "v1", "--cacert", ca.cert().toString(), "--cert",
                client.cert().toString(), "--key", client.key().toString(), https("/v1/kv/tls/key"));
        assertEquals(0, kv.code(), kv.out());
        assertEquals("true", kv.out().strip());
    }

    /**
     * TLS 1.3: a client's handshake is over before the server checks its certificate. A client that writes its
     * request only after the server has refused it and finished with the connection must still read the refusal
     * (bad_certificate), not a reset: the server lingers after the alert instead of closing at once.
     */
    @Test
    void aRefusedCertificateIsReadAsTheRefusalEvenWhenTheRequestComesLate() throws Exception {
        int port = agent.httpsAddress().getPort();
        byte[] request = "GET /v1/agent/self HTTP/1.1\r\nHost: weft\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 3; i++) {
            try (SSLSocket s = TestPki.connect(port, foreignClient, "TLSv1.3")) {
                s.setSoTimeout(10_000);
                s.startHandshake();
                int local = s.getLocalPort();
                // the server has answered the handshake: its FIN (CLOSE_WAIT, 08) or its reset (the socket is gone)
                Poll.until(Duration.ofSeconds(10), () -> "the server to end client port " + local + " (it is in "
                        + tcpStateQuietly(local) + ")", () -> !"01".equals(tcpState(local)));
                OutputStream out = s.getOutputStream();
                IOException e = assertThrows(IOException.class, () -> {
                    for (int k = 0; k < 20; k++) { // a server that closed resets the first; the next ones fail
                        out.write(request);
                        out.flush();
                    }
                    s.getInputStream().read();
                });
                assertInstanceOf(SSLException.class, e, "the refusal, not a reset: " + e);
                // JDK 17 clients send their certificate (bad_certificate); JDK 25 sends none when the server's
                // list of CAs does not name theirs (certificate_required)
                assertTrue(e.getMessage().contains("bad_certificate")
                        || e.getMessage().contains("certificate_required"), e.getMessage());
            }
        }
    }

    private static String tcpStateQuietly(int localPort) {
        try {
            return tcpState(localPort);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /**
     * The state (hex, as in /proc/net/tcp: 01 established, 08 close-wait) of the socket on 127.0.0.1:localPort,
     * which Java opens as an IPv6 socket with a v4-mapped address unless told otherwise.
     */
    private static String tcpState(int localPort) throws IOException {
        String port = String.format(":%04X", localPort);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith("0100007F" + port)) {
                    return f[3];
                }
            }
        }
        return null;
    }

    private record Cli(int code, String out, String err) {
    }

    private static Cli weft(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), env), args);
        return new Cli(code, out.toString(), err.toString());
    }

    @Test
    void theCliSpeaksHttpsWithAClientCertificate() {
        String addr = "https://127.0.0.1:" + agent.httpsAddress().getPort();
        Cli put = weft(Map.of(), "kv", "put", "-http-addr", addr, "-ca-file", ca.cert().toString(), "-client-cert",
                client.cert().toString(), "-client-key", client.key().toString(), "tls/cli", "v1");
        assertEquals(0, put.code(), put.err());
        // Consul's environment variables work too
        Cli get = weft(Map.of("CONSUL_HTTP_ADDR", "127.0.0.1:" + agent.httpsAddress().getPort(),
                "CONSUL_HTTP_SSL", "true", "CONSUL_CACERT", ca.cert().toString(),
                "CONSUL_CLIENT_CERT", client.cert().toString(), "CONSUL_CLIENT_KEY", client.key().toString()),
                "kv", "get", "tls/cli");
        assertEquals(0, get.code(), get.err());
        assertEquals("v1", get.out().strip());
        Cli noCert = weft(Map.of(), "kv", "get", "-http-addr", addr, "-ca-file", ca.cert().toString(), "tls/cli");
        assertEquals(1, noCert.code(), noCert.out());
        assertTrue(noCert.err().contains("Error talking to weft agent"), noCert.err());
        Cli half = weft(Map.of(), "kv", "get", "-http-addr", addr, "-client-cert", client.cert().toString(),
                "tls/cli");
        assertEquals(2, half.code(), half.err());
    }

    @Test
    void internalEndpointsAreOnlyServedOverMutualTls() throws Exception {
        HttpClient plain = HttpClient.newHttpClient();
        HttpResponse<String> refused = plain.send(HttpRequest.newBuilder(URI.create("http://" + agent.httpAddr()
                + FeedProtocol.FEED + "?index=0&wait=1ms")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, refused.statusCode());
        assertTrue(refused.body().contains("must use HTTPS with a client certificate"), refused.body());
        // ordinary API calls stay open on the plain port
        HttpResponse<String> self = plain.send(HttpRequest.newBuilder(URI.create("http://" + agent.httpAddr()
                + "/v1/agent/self")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, self.statusCode());

        // over HTTPS with a client certificate the feed answers, and names this server's HTTPS address
        String httpsAddr = "127.0.0.1:" + agent.httpsAddress().getPort();
        String headers = Poll.until(Duration.ofSeconds(20), () -> "the feed naming the HTTPS address", () -> {
            Curl c = curl("--fail", "-D", "-", "-o", "/dev/null", "--cacert", ca.cert().toString(), "--cert",
                    client.cert().toString(), "--key", client.key().toString(),
                    https(FeedProtocol.FEED + "?index=0&wait=1ms"));
            return c.code() == 0 && c.out().contains(httpsAddr) ? c.out() : null;
        });
        assertTrue(headers.toLowerCase().contains(FeedProtocol.H_SERVERS.toLowerCase()), headers);
    }

    @Test
    void reloadSwitchesNewHandshakesToTheNewCertificate() throws Exception {
        assertEquals(server.serial(), TestPki.serverCertificate(agent.httpsAddress().getPort(), client, false)
                .getSerialNumber());
        TestPki.Written rotated = TestPki.server(ca, dir.resolve("pki"), "server"); // same files, new serial
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), Map.of("WEFT_HTTP_ADDR", agent.httpAddr())), "reload");
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("serial " + rotated.issued().certificate().getSerialNumber()
                .toString(16).toUpperCase()), out.toString());
        assertEquals(rotated.serial(), TestPki.serverCertificate(agent.httpsAddress().getPort(), client, false)
                .getSerialNumber());

        // a broken key: the reload fails with the reason, the agent keeps serving the rotated certificate
        Files.writeString(rotated.key(), "garbage");
        HttpResponse<String> bad = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                        + agent.httpAddr() + "/v1/agent/reload")).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(500, bad.statusCode());
        assertTrue(bad.body().startsWith("Reload failed: no PEM 'PRIVATE KEY'"), bad.body());
        assertEquals(rotated.serial(), TestPki.serverCertificate(agent.httpsAddress().getPort(), client, false)
                .getSerialNumber());

        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                + agent.httpAddr() + "/v1/agent/metrics?format=prometheus")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(metrics.body().lines().anyMatch(l -> l.startsWith("weft_tls_reloads_total")
                && l.contains("result=\"ok\"") && l.endsWith(" 1.0")), metrics.body());
        assertTrue(metrics.body().lines().anyMatch(l -> l.startsWith("weft_tls_reloads_total")
                && l.contains("result=\"error\"") && l.endsWith(" 1.0")), metrics.body());
        assertTrue(metrics.body().contains("weft_tls_cert_expiry_seconds"), metrics.body());
    }
}
