package dev.weft.net.docker;

import dev.weft.net.host.HostNetworks;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Docker's remote network and IPAM driver ("weft") on a unix domain socket: HTTP/1.1, every call a POST with a
 * JSON body, answered with {@value #CONTENT_TYPE}. Requests are read on one epoll event loop and served on a
 * small worker pool (the control plane and the kernel block); {@link DockerRemoteApi} does the work.
 *
 * <p>{@link #start} removes a stale socket file, binds, and makes the socket mode 0600 (owned by the agent's
 * user, root). {@link #close} stops listening, finishes the calls in progress and removes the socket file.
 */
public final class DockerPluginServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DockerPluginServer.class);
    public static final String CONTENT_TYPE = "application/vnd.docker.plugins.v1.2+json";
    static final int MAX_BODY = 1 << 20;
    private static final int WORKERS = 4;

    private final Path socket;
    private final DockerRemoteApi api;
    private final ExecutorService workers;
    private EpollEventLoopGroup loop;
    private Channel channel;

    private DockerPluginServer(Path socket, DockerRemoteApi api, ExecutorService workers) {
        this.socket = socket;
        this.api = api;
        this.workers = workers;
    }

    /** Serves the driver for {@code host} on {@code settings.socket()}. */
    public static DockerPluginServer start(DockerPluginSettings settings, HostNetworks host) {
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS, r -> {
            Thread t = new Thread(r, "weft-docker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        DockerPluginServer server = null;
        try {
            server = new DockerPluginServer(settings.socket(), new DockerRemoteApi(host, settings), workers);
            server.bind();
            return server;
        } catch (RuntimeException | Error e) {
            if (server != null) {
                server.close();
            } else {
                workers.shutdownNow();
            }
            throw e;
        }
    }

    public Path socket() {
        return socket;
    }

    private void bind() {
        try {
            Files.createDirectories(socket.toAbsolutePath().getParent());
            if (Files.deleteIfExists(socket)) {
                LOG.info("docker: removed the stale socket {}", socket);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + socket, e);
        }
        loop = new EpollEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "weft-docker-io");
            t.setDaemon(true);
            return t;
        });
        channel = new ServerBootstrap().group(loop).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                    @Override
                    protected void initChannel(DomainSocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY),
                                new Calls());
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).syncUninterruptibly().channel();
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restrict " + socket + " to mode 0600", e);
        }
        LOG.info("docker: network and IPAM driver 'weft' listening on {}", socket);
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        api.close(); // no more re-reconciliations handed to the workers
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
            LOG.warn("docker: cannot remove {}: {}", socket, e.toString());
        }
    }

    /** One HTTP request → one call on a worker → one answer. */
    private final class Calls extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess()) {
                send(ctx, DockerRemoteApi.error(400, "malformed HTTP request"), false);
                return;
            }
            if (!HttpMethod.POST.equals(request.method())) {
                send(ctx, DockerRemoteApi.error(405, "plugin calls are POST, not " + request.method()), keepAlive);
                return;
            }
            String path = new QueryStringDecoder(request.uri()).path();
            byte[] body = ByteBufUtil.getBytes(request.content());
            try {
                workers.execute(() -> send(ctx, api.handle(path, body), keepAlive));
            } catch (RejectedExecutionException e) {
                send(ctx, DockerRemoteApi.error(503, "the weft driver is shutting down"), false);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("docker: connection error: {}", cause.toString());
            ctx.close();
        }
    }

    private static void send(ChannelHandlerContext ctx, DockerRemoteApi.Answer answer, boolean keepAlive) {
        byte[] bytes = answer.bytes();
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(answer.status()), Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, CONTENT_TYPE);
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
