package dev.weft.agent.http;

import dev.weft.agent.catalog.LocalAgentState;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.raft.RaftStore;
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
import io.netty.util.concurrent.DefaultThreadFactory;

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
    private static final int MAX_INITIAL_LINE = 16 * 1024;
    private static final int MAX_HEADER_SIZE = 16 * 1024;
    private static final int MAX_CHUNK_SIZE = 64 * 1024;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ExecutorService blocking;
    private final Channel serverChannel;

    private final ApiContext ctx;

    private HttpApiServer(EventLoopGroup boss, EventLoopGroup workers, ExecutorService blocking, Channel ch,
                          ApiContext ctx) {
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
            ServerBootstrap b = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline()
                                    .addLast("codec", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE,
                                            MAX_CHUNK_SIZE))
                                    .addLast("limits", new BodyLimits(router))
                                    .addLast("aggregator", new HttpObjectAggregator(
                                            RaftStore.MAX_ENTRY_BYTES, true))
                                    .addLast("api", new HttpApiHandler(router, timers));
                        }
                    });
            Channel ch = b.bind(host, port).sync().channel();
            return new HttpApiServer(boss, workers, blocking, ch, ctx);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            blocking.shutdownNow();
            throw e;
        }
    }

    /** What {@code PUT /v1/agent/leave} runs: the agent's graceful leave. */
    public void onLeave(Runnable action) {
        ctx.leaveAction = action;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        blocking.shutdownNow();
    }
}
