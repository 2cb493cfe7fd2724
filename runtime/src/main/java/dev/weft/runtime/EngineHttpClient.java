package dev.weft.runtime;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * One HTTP/1.1 exchange with the engine on a fresh socket (unix-domain or TCP, JDK {@link SocketChannel} in
 * non-blocking mode so that every wait has a deadline). Requests say {@code Connection: close}; bodies are read
 * by Content-Length, chunked transfer-encoding, or to EOF. {@link #close()} may be called from another thread
 * and wakes a blocked read (that is how an event stream is ended).
 */
final class EngineHttpClient implements AutoCloseable {
    /** Pass as a deadline to wait without limit (event streams). */
    static final long NO_DEADLINE = Long.MIN_VALUE;
    private static final int MAX_HEAD_BYTES = EngineLimits.MAX_HEAD_BYTES;
    private static final int MAX_BODY_BYTES = EngineLimits.MAX_BODY_BYTES;

    private final DockerHost host;
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final byte[] buf = new byte[16 * 1024];
    private byte[] pending = new byte[0];
    private int pendingOff;
    private volatile boolean closed;

    record Response(HttpHead head, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private EngineHttpClient(DockerHost host, SocketChannel channel, Selector selector, SelectionKey key) {
        this.host = host;
        this.channel = channel;
        this.selector = selector;
        this.key = key;
    }

    /** GET (or another body-less method) and the whole answer, all within {@code timeout}. */
    static Response exchange(DockerHost host, String method, String target, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (EngineHttpClient c = open(host, deadline)) {
            c.send(method, target, deadline);
            HttpHead head = c.readHead(deadline);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            c.readBody(head, deadline, (b, off, len) -> {
                if (body.size() + len > MAX_BODY_BYTES) {
                    throw new IOException("answer larger than " + MAX_BODY_BYTES + " bytes");
                }
                body.write(b, off, len);
            });
            return new Response(head, body.toByteArray());
        } catch (SocketTimeoutException e) {
            SocketTimeoutException t = new SocketTimeoutException(method + " " + target + " on " + host
                    + ": no complete answer within " + timeout.toMillis() + " ms");
            t.initCause(e);
            throw t;
        }
    }

    static EngineHttpClient open(DockerHost host, long deadline) throws IOException {
        SocketChannel ch = host.unix() ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        Selector sel = null;
        try {
            ch.configureBlocking(false);
            sel = Selector.open();
            SelectionKey key = ch.register(sel, 0);
            EngineHttpClient c = new EngineHttpClient(host, ch, sel, key);
            if (!host.unix()) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            }
            InetSocketAddress tcp = host.address() instanceof InetSocketAddress a && a.isUnresolved()
                    ? new InetSocketAddress(a.getHostString(), a.getPort()) : null;
            if (!ch.connect(tcp != null ? tcp : host.address())) {
                while (!ch.finishConnect()) {
                    c.await(SelectionKey.OP_CONNECT, deadline, "connect");
                }
            }
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            if (sel != null) {
                sel.close();
            }
            if (e instanceof IOException io && !(io instanceof SocketTimeoutException)) {
                throw new IOException("cannot connect to docker at " + host + ": " + io.getMessage(), io);
            }
            throw e;
        }
    }

    void send(String method, String target, long deadline) throws IOException {
        String request = method + " " + target + " HTTP/1.1\r\n"
                + "Host: " + host.hostHeader() + "\r\n"
                + "User-Agent: weft\r\n"
                + "Accept: application/json\r\n"
                + "Connection: close\r\n\r\n";
        ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1));
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "write");
            }
        }
    }

    /** Reads up to the end of the response head; skips interim 1xx answers. */
    HttpHead readHead(long deadline) throws IOException {
        while (true) {
            byte[] head = new byte[1024];
            int len = 0;
            int end = -1;
            while (end < 0) {
                int n = read(deadline);
                if (n < 0) {
                    throw new EOFException(len == 0 ? "connection closed before an answer"
                            : "connection closed in the middle of the response head");
                }
                if (len + n > MAX_HEAD_BYTES) {
                    throw new IOException("response head larger than " + MAX_HEAD_BYTES + " bytes");
                }
                if (len + n > head.length) {
                    head = Arrays.copyOf(head, Math.max(head.length * 2, len + n));
                }
                System.arraycopy(buf, 0, head, len, n);
                int from = Math.max(0, len - 3);
                len += n;
                end = headEnd(head, from, len);
            }
            pending = Arrays.copyOfRange(head, end, len);
            pendingOff = 0;
            HttpHead parsed = HttpHead.parse(head, end);
            if (parsed.status() / 100 != 1 || parsed.status() == 101) {
                return parsed;
            }
        }
    }

    /** Streams the body's bytes (de-chunked) to {@code sink} until it ends. */
    void readBody(HttpHead head, long deadline, ChunkedDecoder.Sink sink) throws IOException {
        if (head.noBody()) {
            return;
        }
        if (head.chunked()) {
            ChunkedDecoder decoder = new ChunkedDecoder();
            while (!decoder.done()) {
                int n = read(deadline);
                if (n < 0) {
                    throw new EOFException("connection closed before the last chunk");
                }
                decoder.feed(buf, 0, n, sink);
            }
            return;
        }
        long remaining = head.contentLength();
        while (remaining != 0) {
            int n = read(deadline);
            if (n < 0) {
                if (remaining > 0) {
                    throw new EOFException("connection closed " + remaining + " bytes before the end of the body");
                }
                return;
            }
            int take = remaining < 0 ? n : (int) Math.min(n, remaining);
            sink.accept(buf, 0, take);
            if (remaining > 0) {
                remaining -= take;
            }
        }
    }

    /** Reads what is there (pending head leftovers first) into {@link #buf}; -1 at EOF. */
    private int read(long deadline) throws IOException {
        if (pendingOff < pending.length) {
            int n = Math.min(buf.length, pending.length - pendingOff);
            System.arraycopy(pending, pendingOff, buf, 0, n);
            pendingOff += n;
            return n;
        }
        ByteBuffer bb = ByteBuffer.wrap(buf);
        while (true) {
            int n = channel.read(bb);
            if (n != 0) {
                return n;
            }
            await(SelectionKey.OP_READ, deadline, "read");
        }
    }

    private void await(int op, long deadline, String what) throws IOException {
        if (closed) {
            throw new AsynchronousCloseException();
        }
        long waitMillis = 0;
        if (deadline != NO_DEADLINE) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException(what + " timed out on " + host);
            }
            waitMillis = Math.max(1, Duration.ofNanos(left).toMillis());
        }
        try {
            key.interestOps(op);
            selector.select(waitMillis);
            selector.selectedKeys().clear();
        } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
            throw new AsynchronousCloseException();
        }
        if (closed) {
            throw new AsynchronousCloseException();
        }
    }

    private static int headEnd(byte[] b, int from, int len) {
        for (int i = from; i < len; i++) {
            if (b[i] == '\n') {
                if (i + 1 < len && b[i + 1] == '\n') {
                    return i + 2;
                }
                if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n') {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    /** Closes the socket; safe from any thread, wakes a blocked read. */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing: nothing left to do with the socket
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // as above
        }
    }
}
