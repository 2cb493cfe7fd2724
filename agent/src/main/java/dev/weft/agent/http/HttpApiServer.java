package dev.weft.agent.http;

import dev.weft.agent.catalog.LocalAgentState;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.acl.AclConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import dev.weft.kvstore.tls.TlsCredentials;

import javax.net.ssl.SSLException;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The Consul-compatible HTTP API on Netty NIO. Owns its event loops and a one-thread executor for snapshot
 * encoding; {@link #close()} stops them. Pipeline per connection: HTTP codec, per-route body limits (413 before
 * anything is buffered), aggregation, then {@link HttpApiHandler}.
 */
public final class HttpApiServer implements AutoCloseable {
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ExecutorService blocking;
    private final Channel serverChannel;
    /** The HTTPS listener, or null. */
    private final Channel httpsChannel;

    private final ApiContext ctx;

    /**
     * An HTTPS listener next to the plain one: same API, TLS with the agent's (reloadable) certificate.
     *
     * @param port              HTTPS port (0 = ephemeral, -1 = no HTTPS listener: only the rule below applies)
     * @param tls               the agent's credentials
     * @param requireClientCert -verify-incoming: a client certificate signed by the CA is required; on a server it
     *                          also confines {@code /v1/internal/} (the client agents' feed) to this listener
     */
    public record Https(int port, TlsCredentials tls, boolean requireClientCert) {
    }

    private HttpApiServer(EventLoopGroup boss, EventLoopGroup workers, ExecutorService blocking, Channel ch,
                          Channel httpsChannel, ApiContext ctx) {
        this.httpsChannel = httpsChannel;
        this.ctx = ctx;
        this.boss = boss;
        this.workers = workers;
        this.blocking = blocking;
        this.serverChannel = ch;
    }

    /**
     * Binds the API on {@code host:port} (0 = ephemeral) with one event loop per core.
     *
     * @throws InterruptedException when interrupted while binding
     */
    public static HttpApiServer start(ReplicatedStore store, AgentInfo agent, PrometheusMeterRegistry registry,
                                      String host, int port) throws InterruptedException {
        return start(store, agent, registry, host, port, null);
    }

    /** As {@link #start(ReplicatedStore, AgentInfo, PrometheusMeterRegistry, String, int)}, with the agent's local state. */
    public static HttpApiServer start(ReplicatedStore store, AgentInfo agent, PrometheusMeterRegistry registry,
                                      String host, int port, LocalAgentState local) throws InterruptedException {
        return start(store, agent, registry, host, port, local, AclConfig.DISABLED);
    }

    /** As above, enforcing ACLs when {@code acl} is enabled. */
    public static HttpApiServer start(ReplicatedStore store, AgentInfo agent, PrometheusMeterRegistry registry,
                                      String host, int port, LocalAgentState local, AclConfig acl)
            throws InterruptedException {
        return start(store, agent, registry, host, port, local, acl, null);
    }

    /** As above, with an HTTPS listener on the same host when {@code https} is not null. */
    public static HttpApiServer start(ReplicatedStore store, AgentInfo agent, PrometheusMeterRegistry registry,
                                      String host, int port, LocalAgentState local, AclConfig acl, Https https)
            throws InterruptedException {
        EventLoopGroup boss = new NioEventLoopGroup(1, new DefaultThreadFactory("weft-http-accept", true));
        EventLoopGroup workers = new NioEventLoopGroup(Math.max(2, Runtime.getRuntime().availableProcessors()),
                new DefaultThreadFactory("weft-http", true));
        ExecutorService blocking = Executors.newSingleThreadExecutor(new DefaultThreadFactory("weft-http-snapshot",
                true));
        try {
            ApiContext ctx = new ApiContext(store, agent, registry, blocking, Clock.systemUTC(), local);
            ctx.acl = AclGate.of(acl, store, agent.nodeName(), registry);
            Router router = new Router(ctx);
            HttpApiHandler.RequestTimers timers = new HttpApiHandler.RequestTimers(registry);
            Channel ch = bootstrap(boss, workers, router, timers, null).bind(host, port).sync().channel();
            Channel tlsCh = null;
            if (https != null) {
                ctx.internalNeedsTls = https.requireClientCert() && agent.server();
            }
            if (https != null && https.port() >= 0) {
                try {
                    tlsCh = bootstrap(boss, workers, router, timers, sslContext(https)).bind(host, https.port())
                            .sync().channel();
                } catch (InterruptedException | RuntimeException e) {
                    ch.close().syncUninterruptibly();
                    throw e;
                }
            }
            return new HttpApiServer(boss, workers, blocking, ch, tlsCh, ctx);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            blocking.shutdownNow();
            throw e;
        }
    }

    private static SslContext sslContext(Https https) {
        try {
            return SslContextBuilder.forServer(https.tls().keyManager())
                    .trustManager(https.tls().listenerTrustManager())
                    .clientAuth(https.requireClientCert() ? ClientAuth.REQUIRE : ClientAuth.NONE)
                    .sslProvider(SslProvider.JDK)
                    .build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot set up HTTPS: " + e.getMessage(), e);
        }
    }

    private static ServerBootstrap bootstrap(EventLoopGroup boss, EventLoopGroup workers, Router router,
                                             HttpApiHandler.RequestTimers timers, SslContext ssl) {
        return new ServerBootstrap()
                .group(boss, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast("tls-refusal", new TlsRefusalLinger())
                                    .addLast("tls", ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast("codec", new HttpServerCodec(HttpLimits.MAX_REQUEST_LINE_BYTES,
                                        HttpLimits.MAX_HEADER_BYTES, HttpLimits.MAX_CHUNK_BYTES))
                                .addLast("limits", new BodyLimits(router))
                                .addLast("aggregator", new HttpObjectAggregator(
                                        HttpLimits.MAX_AGGREGATED_BYTES, true))
                                .addLast("api", new HttpApiHandler(router, timers));
                    }
                });
    }

    /** What {@code PUT /v1/agent/leave} runs: the agent's graceful leave. */
    public void onLeave(Runnable action) {
        ctx.leaveAction = action;
    }

    /** Changes how many blocking queries one client IP address may have waiting at once (default 256). */
    public void limitBlockingPerClient(int max) {
        ctx.queries.maxPerClient(max);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    /** The HTTPS listener's address, or null without one. */
    public InetSocketAddress httpsAddress() {
        return httpsChannel == null ? null : (InetSocketAddress) httpsChannel.localAddress();
    }

    /** What {@code PUT /v1/agent/reload} runs; its answer is the body of the 200 reply. */
    public void onReload(java.util.concurrent.Callable<String> action) {
        ctx.reloadAction = action;
    }

    @Override
    public void close() {
        if (httpsChannel != null) {
            httpsChannel.close().syncUninterruptibly();
        }
        serverChannel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        blocking.shutdownNow();
    }
}
