package dev.weft.kvstore.feed;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client agents' HTTP/1.1 client against a loopback socket server that answers scripted bytes. */
class ServerConnectionsTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** Holds the answers of {@link #silentServer} until the test ends. */
    private final CountDownLatch released = new CountDownLatch(1);

    @AfterEach
    void tearDown() throws Exception {
        released.countDown();
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    /**
     * A server on 127.0.0.1: for each request (its head and Content-Length body) it writes what {@code answer}
     * gives (request text, connection number); a null answer closes the connection without a byte, and so does
     * an HTTP/1.0 answer after it is written.
     */
    private String serve(BiFunction<String, Integer, byte[]> answer, BlockingQueue<String> requests)
            throws IOException {
        ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        toClose.add(ss);
        AtomicInteger conns = new AtomicInteger();
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try {
                    Socket s = ss.accept();
                    toClose.add(s);
                    int n = conns.incrementAndGet();
                    Thread h = new Thread(() -> handle(s, n, answer, requests));
                    h.setDaemon(true);
                    h.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return "127.0.0.1:" + ss.getLocalPort();
    }

    /** A server that reads each request (into {@code requests}) and never answers while the test runs. */
    private String silentServer(BlockingQueue<String> requests) throws IOException {
        return serve((req, conn) -> {
            try {
                released.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }, requests);
    }

    private static void handle(Socket s, int conn, BiFunction<String, Integer, byte[]> answer,
                               BlockingQueue<String> requests) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                ByteArrayOutputStream head = new ByteArrayOutputStream();
                int b;
                while ((b = in.read()) >= 0) {
                    head.write(b);
                    byte[] h = head.toByteArray();
                    int n = h.length;
                    if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                        break;
                    }
                }
                if (b < 0) {
                    return;
                }
                String req = head.toString(StandardCharsets.ISO_8859_1);
                int len = 0;
                for (String l : req.split("\r\n")) {
                    if (l.toLowerCase().startsWith("content-length:")) {
                        len = Integer.parseInt(l.substring(15).trim());
                    }
                }
                byte[] body = in.readNBytes(len);
                String full = req + new String(body, StandardCharsets.UTF_8);
                requests.add(full);
                byte[] a = answer.apply(full, conn);
                if (a == null) {
                    return;
                }
                out.write(a);
                out.flush();
                if (new String(a, 0, Math.min(8, a.length), StandardCharsets.ISO_8859_1).equals("HTTP/1.0")) {
                    return; // an HTTP/1.0 answer without a length ends with the connection
                }
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private ServerConnections client() {
        ServerConnections c = new ServerConnections(null, Duration.ofSeconds(2));
        toClose.add(c);
        return c;
    }

    @Test
    void contentLengthAnswersReuseOneConnectionAndCarryTheToken() throws Exception {
        BlockingQueue<String> reqs = new LinkedBlockingQueue<>();
        String server = serve((req, conn) -> bytes("HTTP/1.1 200 OK\r\nX-Consul-Index: " + conn
                + "\r\nContent-Length: 5\r\n\r\nhello"), reqs);
        ServerConnections c = client();
        for (int i = 0; i < 3; i++) {
            ServerConnections.Response r = c.exchange(server, "PUT", "/v1/internal/apply", bytes("cmd"), "tok",
                    Duration.ofSeconds(5));
            assertEquals(200, r.status());
            assertEquals("hello", new String(r.body(), StandardCharsets.UTF_8));
            assertEquals("1", r.header("x-consul-index", "?"), "every request on the first connection");
        }
        String first = reqs.take();
        assertTrue(first.startsWith("PUT /v1/internal/apply HTTP/1.1\r\n"), first);
        assertTrue(first.contains("X-Consul-Token: tok\r\n"), first);
        assertTrue(first.endsWith("\r\n\r\ncmd"), first);
    }

    @Test
    void chunkedAndUntilCloseBodies() throws Exception {
        String server = serve((req, conn) -> req.contains("/chunked")
                ? bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                : bytes("HTTP/1.0 404 Not Found\r\n\r\nno such thing"), new LinkedBlockingQueue<>());
        ServerConnections c = client();
        ServerConnections.Response r = c.exchange(server, "GET", "/chunked", null, "", Duration.ofSeconds(5));
        assertEquals("hello world", new String(r.body(), StandardCharsets.UTF_8));
        ServerConnections.Response r2 = c.exchange(server, "GET", "/close", null, "", Duration.ofSeconds(5));
        assertEquals(404, r2.status());
        assertEquals("no such thing", new String(r2.body(), StandardCharsets.UTF_8));
    }

    @Test
    void refusedConnectionIsUndeliveredAndATimeoutIsNot() throws Exception {
        int freePort;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            freePort = ss.getLocalPort();
        }
        ServerConnections c = client();
        String refused = "127.0.0.1:" + freePort;
        assertThrows(ServerConnections.Undelivered.class,
                () -> c.exchange(refused, "PUT", "/x", new byte[0], "", Duration.ofSeconds(5)));
        ExecutionException async = assertThrows(ExecutionException.class,
                () -> c.sendAsync(refused, "GET", "/x", null, "", Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS));
        assertInstanceOf(ServerConnections.Undelivered.class, async.getCause());

        String silent = silentServer(new LinkedBlockingQueue<>());
        long t0 = System.nanoTime();
        assertThrows(SocketTimeoutException.class,
                () -> c.exchange(silent, "GET", "/slow", null, "", Duration.ofMillis(300)));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(took >= 250 && took < 2_500, "timed out after " + took + " ms");
    }

    @Test
    void aGetOnAConnectionTheServerClosedIsSentAgainButAPutIsNot() throws Exception {
        // Connection 1 answers its first request and then closes without answering the next one; later
        // connections answer everything.
        AtomicInteger onFirst = new AtomicInteger();
        BlockingQueue<String> reqs = new LinkedBlockingQueue<>();
        String server = serve((req, conn) -> {
            if (conn % 2 == 1 && onFirst.incrementAndGet() % 2 == 0) {
                return null;
            }
            return bytes("HTTP/1.1 200 OK\r\nContent-Length: " + String.valueOf(conn).length() + "\r\n\r\n" + conn);
        }, reqs);
        ServerConnections c = client();
        assertEquals("1", new String(c.exchange(server, "GET", "/a", null, "", Duration.ofSeconds(5)).body(),
                StandardCharsets.UTF_8));
        assertEquals("2", new String(c.exchange(server, "GET", "/b", null, "", Duration.ofSeconds(5)).body(),
                StandardCharsets.UTF_8), "the GET went again on a new connection");

        ServerConnections c2 = client();
        assertEquals("3", new String(c2.exchange(server, "PUT", "/c", new byte[0], "", Duration.ofSeconds(5))
                .body(), StandardCharsets.UTF_8));
        IOException e = assertThrows(IOException.class,
                () -> c2.exchange(server, "PUT", "/d", new byte[0], "", Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("closed before an answer"), e.getMessage());
    }

    @Test
    void oversizedOrMalformedAnswersAreRefused() throws Exception {
        String server = serve((req, conn) -> {
            if (req.contains("/huge")) {
                return bytes("HTTP/1.1 200 OK\r\nContent-Length: " + (ServerConnections.MAX_BODY_BYTES + 1L)
                        + "\r\n\r\n");
            }
            if (req.contains("/garbage")) {
                return bytes("SMTP ready\r\n\r\n");
            }
            return bytes("HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(ServerConnections.MAX_HEADER_BYTES) + "\r\n\r\n");
        }, new LinkedBlockingQueue<>());
        ServerConnections c = client();
        IOException huge = assertThrows(IOException.class,
                () -> c.exchange(server, "GET", "/huge", null, "", Duration.ofSeconds(5)));
        assertTrue(huge.getMessage().contains("exceeds"), huge.getMessage());
        IOException garbage = assertThrows(IOException.class,
                () -> c.exchange(server, "GET", "/garbage", null, "", Duration.ofSeconds(5)));
        assertTrue(garbage.getMessage().contains("bad HTTP status line"), garbage.getMessage());
        IOException big = assertThrows(IOException.class,
                () -> c.exchange(server, "GET", "/bigheader", null, "", Duration.ofSeconds(5)));
        assertTrue(big.getMessage().contains("exceed"), big.getMessage());
    }

    @Test
    void closeEndsABlockedExchange() throws Exception {
        BlockingQueue<String> reqs = new LinkedBlockingQueue<>();
        String silent = silentServer(reqs);
        ServerConnections c = client();
        var f = c.sendAsync(silent, "GET", "/feed", null, "", Duration.ofSeconds(30));
        assertNotNull(reqs.poll(10, TimeUnit.SECONDS), "the request reached the server");
        c.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, e.getCause());
    }

    /** A burst beyond {@link ServerConnections#MAX_IN_FLIGHT} waits its turn instead of failing. */
    @Test
    void requestsBeyondTheInFlightLimitWaitTheirTurn() throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        BlockingQueue<String> reqs = new LinkedBlockingQueue<>();
        String server = serve((req, conn) -> {
            try {
                go.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }, reqs);
        ServerConnections c = client();
        List<CompletableFuture<ServerConnections.Response>> all = new ArrayList<>();
        for (int i = 0; i < ServerConnections.MAX_IN_FLIGHT + 36; i++) {
            all.add(c.sendAsync(server, "PUT", "/v1/kv/burst/" + i, bytes("x"), "", Duration.ofSeconds(30)));
        }
        for (int i = 0; i < ServerConnections.MAX_IN_FLIGHT; i++) {
            assertNotNull(reqs.poll(10, TimeUnit.SECONDS), "request " + i + " reached the server");
        }
        assertEquals(List.of(), all.stream().filter(CompletableFuture::isDone).toList(), "none failed at once");
        go.countDown();
        for (CompletableFuture<ServerConnections.Response> f : all) {
            assertEquals(200, f.get(30, TimeUnit.SECONDS).status());
        }
        assertEquals(36, reqs.size(), "the waiting ones were sent after");
    }

    /** A request's timeout runs while it waits; closing fails the waiting ones at once. */
    @Test
    void aWaitingRequestTimesOutAndCloseFailsTheRest() throws Exception {
        BlockingQueue<String> reqs = new LinkedBlockingQueue<>();
        String silent = silentServer(reqs);
        ServerConnections c = client();
        for (int i = 0; i < ServerConnections.MAX_IN_FLIGHT; i++) {
            c.sendAsync(silent, "GET", "/hold/" + i, null, "", Duration.ofSeconds(30));
        }
        for (int i = 0; i < ServerConnections.MAX_IN_FLIGHT; i++) {
            assertNotNull(reqs.poll(10, TimeUnit.SECONDS), "request " + i + " reached the server");
        }
        var shortOne = c.sendAsync(silent, "GET", "/short", null, "", Duration.ofMillis(200));
        var waiting = c.sendAsync(silent, "GET", "/waiting", null, "", Duration.ofSeconds(30));
        ExecutionException timedOut = assertThrows(ExecutionException.class, () -> shortOne.get(10, TimeUnit.SECONDS));
        assertInstanceOf(SocketTimeoutException.class, timedOut.getCause());
        assertTrue(timedOut.getCause().getMessage().contains("waiting for one of"), timedOut.getCause().getMessage());
        assertFalse(waiting.isDone());
        c.close();
        ExecutionException closed = assertThrows(ExecutionException.class, () -> waiting.get(5, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, closed.getCause());
    }

    /**
     * TLS 1.3: the client's handshake is done before the server has looked at the client's certificate. When the
     * server's refusal (a bad_certificate alert) and its close arrive before the request is written, the write
     * fails; the exchange must still report the refusal, not a stale connection.
     */
    @Test
    void aTlsRefusalThatArrivesBeforeTheRequestIsReportedAsTheRefusal(@TempDir Path dir) throws Exception {
        KeyStore server = keyPair(dir, "server");
        KeyStore foreign = keyPair(dir, "foreign");
        SSLContext serverTls = tls(server, server); // trusts only itself: the foreign client is refused
        SSLContext clientTls = tls(foreign, server);
        ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        toClose.add(ss);
        CountDownLatch clientDone = new CountDownLatch(1);
        CountDownLatch refused = new CountDownLatch(1);
        List<Throwable> serverSaw = new ArrayList<>();
        Thread t = new Thread(() -> {
            try (Socket plain = ss.accept()) {
                plain.setSoLinger(true, 0); // the close resets the connection, as a close with unread input does
                SSLSocket s = (SSLSocket) serverTls.getSocketFactory().createSocket(plain, "127.0.0.1",
                        plain.getPort(), false);
                s.setUseClientMode(false);
                s.setNeedClientAuth(true);
                try {
                    s.startHandshake();
                } finally {
                    // the alert is sent; the connection is reset only once the client's handshake is done
                    clientDone.await(10, TimeUnit.SECONDS);
                }
            } catch (IOException | InterruptedException e) {
                synchronized (serverSaw) {
                    serverSaw.add(e);
                }
            } finally {
                refused.countDown();
            }
        });
        t.setDaemon(true);
        t.start();

        Socket plain = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
        toClose.add(plain);
        SSLSocket ssl = (SSLSocket) clientTls.getSocketFactory().createSocket(plain, "127.0.0.1",
                ss.getLocalPort(), true);
        ssl.setUseClientMode(true);
        ssl.setSoTimeout(10_000);
        try {
            ssl.startHandshake();
        } finally {
            clientDone.countDown();
        }
        assertEquals("TLSv1.3", ssl.getSession().getProtocol());
        assertTrue(refused.await(10, TimeUnit.SECONDS), "the server refused the handshake");
        synchronized (serverSaw) {
            assertEquals(1, serverSaw.size(), "the server's handshake failed: " + serverSaw);
        }

        ServerConnections.Conn c = new ServerConnections.Conn(ssl);
        IOException e = assertThrows(IOException.class, () -> c.exchange("127.0.0.1:" + ss.getLocalPort(), "PUT",
                "/v1/kv/a", bytes("x"), "", System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
        assertInstanceOf(SSLException.class, e, "the refusal, not a stale connection: " + e);
        // JDK 17 clients send their certificate and get bad_certificate; newer ones (25) send none when the
        // server's list of CAs does not name theirs, and get certificate_required
        assertTrue(e.getMessage().contains("bad_certificate") || e.getMessage().contains("certificate_required"),
                e.getMessage());
        assertEquals(1, e.getSuppressed().length, "the write failed first (the case under test)");
    }

    /** A self-signed EC key pair, made by the JDK's keytool, in a PKCS#12 store with password "testpw". */
    private static KeyStore keyPair(Path dir, String name) throws Exception {
        Path file = dir.resolve(name + ".p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-validity", "2", "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", "testpw")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(file)) {
            ks.load(in, "testpw".toCharArray());
        }
        return ks;
    }

    /** TLS 1.3 with {@code key}'s key pair, trusting only the certificate in {@code trusted}. */
    private static SSLContext tls(KeyStore key, KeyStore trusted) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(key, "testpw".toCharArray());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        String alias = trusted.aliases().nextElement();
        trust.setCertificateEntry(alias, trusted.getCertificate(alias));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
