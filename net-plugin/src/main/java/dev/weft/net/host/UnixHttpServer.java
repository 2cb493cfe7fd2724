package dev.weft.net.host;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server on a unix domain socket for the host's local plugin protocols (Docker's driver, CNI):
 * every call is a POST with a body, read on one epoll event loop and served on a small worker pool (the control
 * plane and the kernel block) by a {@link Handler}.
 *
 * <p>{@link #start} removes a stale socket file and binds the socket inside a fresh private directory (mode
 * 0700) next to it, makes it mode 0600 there and only then renames it into place: owned by the agent's user
 * (root), with no moment at which another user could connect. Each connection's peer credentials are checked
 * as well (SO_PEERCRED): a caller of another uid is answered 403, should the mode ever be widened.
 * {@link #close} stops listening, finishes the calls in progress and removes the socket file.
 */
public final class UnixHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UnixHttpServer.class);
    public static final int MAX_BODY = 1 << 20;

    /** An answer: HTTP status and body bytes. */
    public record Reply(int status, byte[] body) {
        public Reply {
            Objects.requireNonNull(body, "body");
        }
    }

    /** What serves the calls: no sockets, blocking is fine (it runs on a worker). */
    public interface Handler {
        /** One POST to {@code path} with {@code body} (possibly empty); never throws. */
        Reply handle(String path, byte[] body);

        /** The body of an answer the server gives by itself (malformed request, wrong method, shutting down). */
        Reply error(int status, String message);
    }

    private final String name;
    private final Path socket;
    private final String contentType;
    private final Handler handler;
    private final ExecutorService workers;
    private EpollEventLoopGroup loop;
    private Channel channel;

    private UnixHttpServer(String name, Path socket, String contentType, Handler handler, ExecutorService workers) {
        this.name = name;
        this.socket = socket;
        this.contentType = contentType;
        this.handler = handler;
        this.workers = workers;
    }

    /**
     * Serves {@code handler} on {@code socket}.
     *
     * @param name        for thread names ({@code weft-NAME-io}, {@code weft-NAME-1…}) and log lines
     * @param contentType of every answer
     * @param workers     how many calls run at once
     */
    public static UnixHttpServer start(String name, Path socket, String contentType, int workers, Handler handler) {
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "weft-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        UnixHttpServer server = new UnixHttpServer(name, socket, contentType, handler, pool);
        try {
            server.bind();
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    public Path socket() {
        return socket;
    }

    private void bind() {
        Path dir = socket.toAbsolutePath().getParent();
        Path privateDir;
        try {
            Files.createDirectories(dir);
            if (Files.deleteIfExists(socket)) {
                LOG.info("{}: removed the stale socket {}", name, socket);
            }
            privateDir = Files.createTempDirectory(dir, ".weft",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + socket, e);
        }
        Path bound = privateDir.resolve("s");
        int ownUid = ownUid();
        loop = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "weft-" + name + "-io");
            t.setDaemon(true);
            return t;
        });
        try {
            channel = new ServerBootstrap().group(loop).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                        @Override
                        protected void initChannel(DomainSocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY),
                                    new Calls(peerRefusal(ch, ownUid)));
                        }
                    })
                    .bind(new DomainSocketAddress(bound.toString())).syncUninterruptibly().channel();
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
            Files.move(bound, socket, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restrict " + socket + " to mode 0600 and move it into place", e);
        } finally {
            try {
                Files.deleteIfExists(bound);
                Files.deleteIfExists(privateDir);
            } catch (IOException e) {
                LOG.warn("{}: cannot remove {}: {}", name, privateDir, e.toString());
            }
        }
    }

    /** The uid this process runs as (the owner of /proc/self). */
    private static int ownUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot tell this process's uid from /proc/self", e);
        }
    }

    /** Why a connection's peer is refused (another uid, or credentials that cannot be read), or null. */
    private String peerRefusal(DomainSocketChannel ch, int ownUid) {
        int peer;
        try {
            peer = ((EpollDomainSocketChannel) ch).peerCredentials().uid();
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: refusing a connection whose credentials cannot be read: {}", name, e.toString());
            return "weft's " + name + " socket cannot read the caller's credentials";
        }
        if (peer != ownUid) {
            LOG.warn("{}: refusing a connection from uid {} (only uid {} may call)", name, peer, ownUid);
            return "weft's " + name + " socket serves only uid " + ownUid + ", not uid " + peer;
        }
        return null;
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (loop != null) {
            loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.warn("{}: cannot remove {}: {}", name, socket, e.toString());
        }
    }

    /** One HTTP request → one call on a worker → one answer. */
    private final class Calls extends SimpleChannelInboundHandler<FullHttpRequest> {
        /** Why this connection's caller is refused, or null. */
        private final String refusal;

        Calls(String refusal) {
            this.refusal = refusal;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (refusal != null) {
                send(ctx, handler.error(403, refusal), false);
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess()) {
                send(ctx, handler.error(400, "malformed HTTP request"), false);
                return;
            }
            if (!HttpMethod.POST.equals(request.method())) {
                send(ctx, handler.error(405, "calls are POST, not " + request.method()), keepAlive);
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            byte[] body = ByteBufUtil.getBytes(request.content());
            try {
                workers.execute(() -> send(ctx, handler.handle(path, body), keepAlive));
            } catch (RejectedExecutionException e) {
                send(ctx, handler.error(503, "weft's " + name + " server is shutting down"), false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("{}: connection error: {}", name, cause.toString());
            ctx.close();
        }
    }

    private void send(ChannelHandlerContext ctx, Reply reply, boolean keepAlive) {
        byte[] bytes = reply.body();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
