package dev.weft.agent.checks;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** Real servers on 127.0.0.1 ephemeral ports for the check tests. */
final class LocalServers {
    private LocalServers() {
    }

    /** A request as the test server saw it. */
    record Seen(String method, String path, Map<String, List<String>> headers, String body) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return String.join(",", e.getValue());
                }
            }
            return null;
        }
    }

    /**
     * An HTTP(S) server answering: {@code /status/<code>} with that code and body "status <code>"; {@code /big}
     * with 10,000 bytes; {@code /redirect} with a 302 to {@code /status/200}; anything else with 200 "ok". Every
     * request is recorded.
     */
    static final class Web implements AutoCloseable {
        final HttpServer server;
        final ExecutorService executor = Executors.newCachedThreadPool();
        final List<Seen> seen = new CopyOnWriteArrayList<>();

        Web(boolean tls) throws Exception {
            InetSocketAddress bind = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            if (tls) {
                HttpsServer s = HttpsServer.create(bind, 0);
                s.setHttpsConfigurator(new HttpsConfigurator(SelfSignedTls.serverContext()));
                server = s;
            } else {
                server = HttpServer.create(bind, 0);
            }
            server.createContext("/", this::handle);
            server.setExecutor(executor);
            server.start();
        }

        String url(String path) {
            return (server instanceof HttpsServer ? "https" : "http") + "://127.0.0.1:"
                    + server.getAddress().getPort() + path;
        }

        private void handle(HttpExchange ex) throws IOException {
            String path = ex.getRequestURI().getPath();
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(new Seen(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders()), body));
            int code = 200;
            String answer = "ok";
            if (path.startsWith("/status/")) {
                code = Integer.parseInt(path.substring("/status/".length()));
                answer = "status " + code;
            } else if (path.equals("/big")) {
                answer = "B".repeat(10_000);
            } else if (path.equals("/redirect")) {
                code = 302;
                answer = "";
                ex.getResponseHeaders().add("Location", "/status/200");
            }
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            if (code == 204 || bytes.length == 0) {
                ex.sendResponseHeaders(code, -1);
            } else {
                ex.sendResponseHeaders(code, bytes.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(bytes);
                }
            }
            ex.close();
        }

        List<Seen> requests(String path) {
            return seen.stream().filter(s -> s.path().equals(path)).toList();
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    /** Accepts connections and never answers (nor closes them until the test ends). */
    static final class Hanging implements AutoCloseable {
        final ServerSocket socket;
        final AtomicInteger accepted = new AtomicInteger();
        private final List<Socket> held = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        Hanging() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        held.add(socket.accept());
                        accepted.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "hanging-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /** A loopback port that nothing listens on (bound once, then closed). */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
