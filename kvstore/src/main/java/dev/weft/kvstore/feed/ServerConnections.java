package dev.weft.kvstore.feed;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP/1.1 client a client agent uses to talk to the servers: blocking sockets, keep-alive connections pooled
 * per server, and nothing else. A request runs on the calling thread ({@link #exchange}) or on a small pool
 * ({@link #sendAsync}), and its answer is read on that same thread: no selector thread and no hand-off per
 * response. This replaced {@code java.net.http.HttpClient}, which on a 2-core machine started a new thread for
 * every asynchronous response (its default executor when the common pool has one worker), and whose selector
 * and executor hand-offs cost a client agent about 1 ms of CPU per feed answer.
 *
 * <p>Limits: response headers {@value #MAX_HEADER_BYTES} bytes, bodies {@value #MAX_BODY_BYTES} bytes (a feed
 * snapshot is the largest), {@value #MAX_IN_FLIGHT} asynchronous requests at a time, {@value #MAX_QUEUED} more
 * waiting for one of them (beyond that a request fails at once; a waiting request's timeout runs while it
 * waits), {@value #MAX_IDLE_PER_SERVER} idle connections kept per server.
 */
final class ServerConnections implements Closeable {
    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_BODY_BYTES = 512 * 1024 * 1024;
    static final int MAX_IN_FLIGHT = 64;
    /**
     * Asynchronous requests waiting for one of the {@value #MAX_IN_FLIGHT}. A burst of writes to a client agent
     * (200 concurrent PUTs) failed beyond 64 with HTTP 500 where a server answered them all.
     */
    static final int MAX_QUEUED = 4096;
    static final int MAX_IDLE_PER_SERVER = 4;

    /** The request never reached the server (refused, unreachable, connect timeout): safe to send elsewhere. */
    static final class Undelivered extends IOException {
        Undelivered(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** An answer: status, headers by lower-case name (first value), body. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        String header(String name, String fallback) {
            String v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? fallback : v;
        }
    }

    private final SSLContext tls;
    private final int connectTimeoutMillis;
    private final ThreadPoolExecutor executor;
    private ScheduledThreadPoolExecutor timers;
    /** Requests waiting for one of the MAX_IN_FLIGHT workers; guarded by this. */
    private final Deque<Runnable> waiting = new ArrayDeque<>();
    private final Map<String, Deque<Conn>> idle = new HashMap<>();
    private final Set<Conn> busy = Collections.newSetFromMap(new IdentityHashMap<>());
    private volatile boolean closed;

    ServerConnections(SSLContext tls, Duration connectTimeout) {
        this.tls = tls;
        this.connectTimeoutMillis = (int) Math.max(1, connectTimeout.toMillis());
        AtomicInteger n = new AtomicInteger();
        // No queue in the pool: an idle worker is reused (most recently idle first) and the others end after
        // 30 s, so a client agent keeps a few threads, not MAX_IN_FLIGHT. The line is {@link #waiting}.
        this.executor = new ThreadPoolExecutor(0, MAX_IN_FLIGHT, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "weft-client-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * {@link #exchange} on the pool: {@value #MAX_IN_FLIGHT} at a time, then waiting in line ({@code timeout}
     * counts from now); fails at once when {@value #MAX_QUEUED} are waiting.
     */
    CompletableFuture<Response> sendAsync(String server, String method, String pathAndQuery, byte[] body,
                                          String token, Duration timeout) {
        CompletableFuture<Response> f = new CompletableFuture<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        AtomicBoolean taken = new AtomicBoolean(); // by a worker, or by the timeout while waiting
        Runnable task = () -> {
            if (!taken.compareAndSet(false, true)) {
                return; // timed out while waiting
            }
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw waitedTooLong(timeout);
                }
                f.complete(exchange(server, method, pathAndQuery, body, token, Duration.ofNanos(left)));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        };
        try {
            executor.execute(() -> runThenDrain(task));
            return f;
        } catch (RejectedExecutionException busy) {
            // all MAX_IN_FLIGHT workers are busy (or the pool is shut down)
        }
        synchronized (this) {
            if (closed || waiting.size() >= MAX_QUEUED) {
                f.completeExceptionally(new IOException(closed ? "client connections are closed"
                        : "more than " + (MAX_IN_FLIGHT + MAX_QUEUED) + " requests to the servers in flight or"
                        + " waiting"));
                return f;
            }
            waiting.add(task);
            ScheduledFuture<?> timer = timers().schedule(() -> {
                if (taken.compareAndSet(false, true)) {
                    f.completeExceptionally(waitedTooLong(timeout));
                }
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            f.whenComplete((r, t) -> timer.cancel(false));
        }
        try {
            // Added before this attempt: a worker that finishes after a refusal here finds it in line.
            executor.execute(() -> runThenDrain(null));
        } catch (RejectedExecutionException stillBusy) {
            // every worker is busy and takes from the line when done
        }
        return f;
    }

    /** Runs {@code first} (if any), then whatever waits in line, until the line is empty. */
    private void runThenDrain(Runnable first) {
        Runnable next = first;
        while (true) {
            if (next != null) {
                next.run();
            }
            synchronized (this) {
                next = waiting.poll();
            }
            if (next == null) {
                return;
            }
        }
    }

    private static SocketTimeoutException waitedTooLong(Duration timeout) {
        // never sent: another server would be no less busy, so this is a timeout, not an undelivered request
        return new SocketTimeoutException("request timed out after " + timeout.toMillis() + " ms waiting for one of "
                + MAX_IN_FLIGHT + " connections to the servers");
    }

    /** Times out requests waiting in line; made on first use, its thread ends after 30 s without work. */
    private synchronized ScheduledThreadPoolExecutor timers() {
        if (timers == null) {
            timers = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "weft-client-http-timeouts");
                t.setDaemon(true);
                return t;
            });
            timers.setRemoveOnCancelPolicy(true);
            timers.setKeepAliveTime(30, TimeUnit.SECONDS);
            timers.allowCoreThreadTimeOut(true);
        }
        return timers;
    }

    /**
     * One request and its answer, on a pooled connection to {@code server} (host:port) or a new one. A GET that
     * fails on a reused connection before any byte of the answer (the server closed it meanwhile) is sent once
     * more on a new connection; other methods are not, since they may have been applied.
     *
     * @throws Undelivered when no connection could be made
     * @throws IOException on any other failure, including the timeout (the whole exchange)
     */
    Response exchange(String server, String method, String pathAndQuery, byte[] body, String token,
                      Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Conn pooled = take(server);
        try {
            if (pooled != null) {
                try {
                    return send(server, pooled, method, pathAndQuery, body, token, deadline);
                } catch (StaleConnection e) {
                    if (!method.equals("GET")) {
                        throw e;
                    }
                }
            }
            return send(server, open(server, deadline), method, pathAndQuery, body, token, deadline);
        } catch (StaleConnection e) {
            throw new IOException("connection to " + server + " closed before an answer ("
                    + e.getCause().getMessage() + ")", e.getCause());
        }
    }

    /** One exchange on {@code c}, which goes back to the pool after a complete answer and is closed otherwise. */
    private Response send(String server, Conn c, String method, String pathAndQuery, byte[] body, String token,
                          long deadline) throws IOException {
        try {
            Response r = c.exchange(server, method, pathAndQuery, body, token, deadline);
            release(server, c);
            return r;
        } catch (IOException | RuntimeException e) {
            discard(c);
            throw e;
        }
    }

    @Override
    public void close() {
        closed = true;
        executor.shutdownNow();
        List<Runnable> inLine;
        synchronized (this) {
            inLine = new ArrayList<>(waiting);
            waiting.clear();
            if (timers != null) {
                timers.shutdownNow();
            }
        }
        inLine.forEach(Runnable::run); // each fails at once: the connections are closed
        synchronized (this) {
            for (Deque<Conn> q : idle.values()) {
                q.forEach(Conn::closeQuietly);
            }
            idle.clear();
            busy.forEach(Conn::closeQuietly); // unblocks their reads
        }
    }

    private synchronized Conn take(String server) throws IOException {
        if (closed) {
            throw new IOException("client connections are closed");
        }
        Deque<Conn> q = idle.get(server);
        Conn c = q == null ? null : q.pollFirst();
        if (c != null) {
            busy.add(c);
        }
        return c;
    }

    private void release(String server, Conn c) {
        synchronized (this) {
            busy.remove(c);
            if (!closed && c.reusable) {
                Deque<Conn> q = idle.computeIfAbsent(server, k -> new ArrayDeque<>());
                if (q.size() < MAX_IDLE_PER_SERVER) {
                    q.addFirst(c);
                    return;
                }
            }
        }
        c.closeQuietly();
    }

    private void discard(Conn c) {
        synchronized (this) {
            busy.remove(c);
        }
        c.closeQuietly();
    }

    private Conn open(String server, long deadline) throws IOException {
        int colon = server.lastIndexOf(':');
        if (colon <= 0 || colon == server.length() - 1) {
            throw new Undelivered("bad server address '" + server + "' (want host:port)", null);
        }
        String host = server.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(server.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new Undelivered("bad port in server address '" + server + "'", e);
        }
        Socket s = new Socket();
        Conn c;
        try {
            s.setTcpNoDelay(true);
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            s.connect(new InetSocketAddress(host, port), (int) Math.max(1, Math.min(connectTimeoutMillis, left)));
        } catch (ConnectException | NoRouteToHostException | UnknownHostException | SocketTimeoutException e) {
            closeQuietly(s);
            throw new Undelivered("cannot connect to " + server + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            closeQuietly(s);
            throw e;
        }
        try {
            Socket use = s;
            if (tls != null) {
                SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(s, host, port, true);
                ssl.setUseClientMode(true);
                ssl.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                ssl.startHandshake();
                use = ssl;
            }
            c = new Conn(use);
        } catch (IOException | RuntimeException e) {
            closeQuietly(s);
            throw e;
        }
        synchronized (this) {
            if (closed) {
                c.closeQuietly();
                throw new IOException("client connections are closed");
            }
            busy.add(c);
        }
        return c;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** A reused connection failed before any byte of the answer was read. */
    private static final class StaleConnection extends IOException {
        StaleConnection(IOException cause) {
            super(cause);
        }
    }

    /** One connection to one server; package-private for tests. */
    static final class Conn {
        /** How long a failed write waits for a TLS alert the server may have sent before it closed. */
        private static final int TLS_REFUSAL_WAIT_MILLIS = 250;
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] buf = new byte[8192];
        private int pos;
        private int lim;
        boolean reusable;

        Conn(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void closeQuietly() {
            ServerConnections.closeQuietly(socket);
        }

        Response exchange(String server, String method, String pathAndQuery, byte[] body, String token,
                          long deadline) throws IOException {
            reusable = false;
            StringBuilder head = new StringBuilder(160).append(method).append(' ').append(pathAndQuery)
                    .append(" HTTP/1.1\r\nHost: ").append(server).append("\r\n");
            if (token != null && !token.isEmpty()) {
                head.append("X-Consul-Token: ").append(token).append("\r\n");
            }
            if (body != null || !method.equals("GET")) {
                head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
            }
            head.append("\r\n");
            try {
                out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                if (body != null && body.length > 0) {
                    out.write(body);
                }
                out.flush();
                if (fill(deadline) < 0) {
                    throw new StaleConnection(new IOException("connection closed"));
                }
            } catch (SocketTimeoutException | SSLException e) {
                throw e; // a TLS refusal (TLS 1.3 reports a bad client certificate only here) is not a stale connection
            } catch (StaleConnection e) {
                throw e;
            } catch (IOException e) {
                SSLException refusal = tlsRefusal(deadline);
                if (refusal != null) {
                    refusal.addSuppressed(e);
                    throw refusal;
                }
                throw new StaleConnection(e);
            }
            String status = line(deadline);
            if (!status.startsWith("HTTP/1.") || status.length() < 12) {
                throw new IOException("bad HTTP status line from " + server + ": " + abbreviate(status));
            }
            int code;
            try {
                code = Integer.parseInt(status.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new IOException("bad HTTP status line from " + server + ": " + abbreviate(status));
            }
            Map<String, String> headers = new HashMap<>();
            int headerBytes = status.length();
            while (true) {
                String l = line(deadline);
                headerBytes += l.length() + 2;
                if (headerBytes > MAX_HEADER_BYTES) {
                    throw new IOException("headers from " + server + " exceed " + MAX_HEADER_BYTES + " bytes");
                }
                if (l.isEmpty()) {
                    break;
                }
                int colon = l.indexOf(':');
                if (colon <= 0) {
                    throw new IOException("bad HTTP header from " + server + ": " + abbreviate(l));
                }
                headers.putIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        l.substring(colon + 1).trim());
            }
            boolean keepAlive = !"close".equalsIgnoreCase(headers.get("connection"))
                    && status.startsWith("HTTP/1.1");
            byte[] content;
            String te = headers.get("transfer-encoding");
            String cl = headers.get("content-length");
            if (method.equals("HEAD") || code == 204 || code == 304 || (code >= 100 && code < 200)) {
                content = new byte[0];
            } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                content = chunked(server, deadline);
            } else if (cl != null) {
                long n;
                try {
                    n = Long.parseLong(cl.trim());
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length from " + server + ": " + abbreviate(cl));
                }
                if (n < 0 || n > MAX_BODY_BYTES) {
                    throw new IOException("answer from " + server + " of " + n + " bytes exceeds "
                            + MAX_BODY_BYTES);
                }
                content = new byte[(int) n];
                readFully(content, 0, content.length, deadline);
            } else {
                content = untilEof(server, deadline);
                keepAlive = false;
            }
            reusable = keepAlive;
            return new Response(code, headers, content);
        }

        private byte[] chunked(String server, long deadline) throws IOException {
            java.io.ByteArrayOutputStream acc = new java.io.ByteArrayOutputStream();
            while (true) {
                String size = line(deadline);
                int semi = size.indexOf(';');
                long n;
                try {
                    n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size from " + server + ": " + abbreviate(size));
                }
                if (n < 0 || acc.size() + n > MAX_BODY_BYTES) {
                    throw new IOException("answer from " + server + " exceeds " + MAX_BODY_BYTES + " bytes");
                }
                if (n == 0) {
                    while (!line(deadline).isEmpty()) {
                        // trailers: ignored
                    }
                    return acc.toByteArray();
                }
                byte[] chunk = new byte[(int) n];
                readFully(chunk, 0, chunk.length, deadline);
                acc.write(chunk);
                if (!line(deadline).isEmpty()) {
                    throw new IOException("bad chunk ending from " + server);
                }
            }
        }

        private byte[] untilEof(String server, long deadline) throws IOException {
            java.io.ByteArrayOutputStream acc = new java.io.ByteArrayOutputStream();
            while (true) {
                if (pos == lim && fill(deadline) < 0) {
                    return acc.toByteArray();
                }
                if (acc.size() + (lim - pos) > MAX_BODY_BYTES) {
                    throw new IOException("answer from " + server + " exceeds " + MAX_BODY_BYTES + " bytes");
                }
                acc.write(buf, pos, lim - pos);
                pos = lim;
            }
        }

        private void readFully(byte[] dst, int off, int len, long deadline) throws IOException {
            while (len > 0) {
                if (pos == lim && fill(deadline) < 0) {
                    throw new IOException("connection closed in the middle of an answer");
                }
                int n = Math.min(len, lim - pos);
                System.arraycopy(buf, pos, dst, off, n);
                pos += n;
                off += n;
                len -= n;
            }
        }

        /** A line without its CRLF (ISO-8859-1). */
        private String line(long deadline) throws IOException {
            StringBuilder sb = null;
            while (true) {
                if (pos == lim && fill(deadline) < 0) {
                    throw new IOException("connection closed in the middle of an answer");
                }
                for (int i = pos; i < lim; i++) {
                    if (buf[i] == '\n') {
                        int end = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                        String part = new String(buf, pos, end - pos, StandardCharsets.ISO_8859_1);
                        pos = i + 1;
                        if (sb == null) {
                            return part;
                        }
                        sb.append(part);
                        int n = sb.length();
                        if (n > 0 && sb.charAt(n - 1) == '\r') {
                            sb.setLength(n - 1);
                        }
                        return sb.toString();
                    }
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(new String(buf, pos, lim - pos, StandardCharsets.ISO_8859_1));
                pos = lim;
                if (sb.length() > MAX_HEADER_BYTES) {
                    throw new IOException("an answer line exceeds " + MAX_HEADER_BYTES + " bytes");
                }
            }
        }

        /**
         * After a failed write on a TLS connection, the alert the server sent before it closed, or null. Under
         * TLS 1.3 a server refuses a client certificate after the client's handshake is done; when the refusal
         * and the server's close arrive before the request is written, the write fails ("Broken pipe") while the
         * alert still waits unread. Reading it tells a refusal from a stale connection.
         */
        private SSLException tlsRefusal(long deadline) {
            if (!(socket instanceof SSLSocket)) {
                return null;
            }
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                socket.setSoTimeout((int) Math.max(1, Math.min(TLS_REFUSAL_WAIT_MILLIS, left)));
                in.read(buf, 0, buf.length); // the connection is discarded after this, whatever it reads
                return null;
            } catch (SSLException e) {
                return e;
            } catch (IOException e) {
                return null;
            }
        }

        /** Reads more into the buffer (it must be fully consumed); -1 at the end of the stream. */
        private int fill(long deadline) throws IOException {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new SocketTimeoutException("request timed out");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            int n = in.read(buf, 0, buf.length);
            pos = 0;
            lim = Math.max(n, 0);
            return n;
        }

        private static String abbreviate(String s) {
            return s.length() > 120 ? s.substring(0, 120) + "..." : s;
        }
    }
}
