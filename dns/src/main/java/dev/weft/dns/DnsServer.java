package dev.weft.dns;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramChannelConfig;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The DNS server: UDP and TCP listeners on Netty event loops answering from the agent's local catalog view
 * (see {@link CatalogReader}), forwarding other names to the configured recursors. With Linux epoll every
 * listener has one UDP socket per event loop (SO_REUSEPORT), otherwise one NIO socket. Listeners can be added
 * and removed while running (e.g. :53 on an overlay gateway address).
 */
public final class DnsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsServer.class);
    /** Receive buffer per datagram: one byte more than the largest query, so that a larger one is noticed. */
    static final int MAX_QUERY_DATAGRAM = DnsLimits.MAX_QUERY_BYTES + 1;
    /** Datagrams read per recvmmsg call (epoll). */
    static final int RECV_BATCH = 16;
    private static final int PORT_ATTEMPTS = 20;

    private final DnsConfig config;
    private final boolean epoll;
    private final EventLoopGroup group;
    private final int udpSockets;
    private final ChannelFactory<Channel> udpFactory;
    private final Class<? extends ServerSocketChannel> serverClass;
    private final QueryProcessor processor;
    private final AnswerCache cache;
    private final DnsMetrics metrics;
    /** The per-client answer rate limit, or null when there is none. */
    private final ClientRateLimiter rateLimiter;
    private final AtomicInteger tcpConnections = new AtomicInteger();
    private final UdpHandler udpHandler = new UdpHandler();
    private final Map<InetSocketAddress, Listener> listeners = new LinkedHashMap<>();
    private final Listener main;
    private boolean closed;

    /** The sockets of one address: UDP (one or more) and TCP on the same port. */
    private record Listener(InetSocketAddress requested, InetSocketAddress bound, List<Channel> udp, Channel tcp,
                            List<BlockingUdp> blockingUdp) {
        void close() {
            tcp.close().syncUninterruptibly();
            for (Channel c : udp) {
                c.close().syncUninterruptibly();
            }
            for (BlockingUdp b : blockingUdp) {
                b.close();
            }
        }
    }

    /**
     * One plain JDK UDP socket served by its own thread ({@link DnsConfig#blockingUdp()}): receive into one
     * reused buffer, answer into another, send. Closing the socket ends the thread.
     *
     * <p>The loop is meant to run well as C1 code (client agents run without C2): it allocates nothing of its
     * own per query (the JDK allocates the sender's address), and answers sent at once skip Netty's pooled
     * allocator and reference counts. Only a forwarded query binds a reply to its sender.
     */
    private final class BlockingUdp implements Runnable, QueryProcessor.Reply {
        private final DatagramChannel socket;
        private final EventLoop loop;
        private final Thread thread;
        /** The sender of the packet being answered ({@link #keep()} binds a forwarded query's reply to it). */
        private InetSocketAddress sender;

        BlockingUdp(InetSocketAddress bound, int n) throws IOException {
            socket = DatagramChannel.open(bound.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6
                    : StandardProtocolFamily.INET);
            try {
                socket.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                if (config.udpReceiveBuffer() > 0) {
                    socket.setOption(StandardSocketOptions.SO_RCVBUF, config.udpReceiveBuffer());
                }
                socket.bind(bound);
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
            }
            loop = group.next(); // where forwarded queries complete
            // A FastThreadLocalThread: Netty's and the query scratch's thread locals are an array index here.
            thread = new FastThreadLocalThread(this, "weft-dns-udp-" + bound.getPort() + "-" + n);
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void run() {
            ByteBuffer inBuffer = ByteBuffer.allocateDirect(MAX_QUERY_DATAGRAM);
            ByteBuf in = Unpooled.wrappedBuffer(inBuffer);
            ByteBuffer outBuffer = ByteBuffer.allocateDirect(DnsLimits.EDNS_PAYLOAD);
            ByteBuf out = Unpooled.wrappedBuffer(outBuffer);
            while (socket.isOpen()) {
                try {
                    inBuffer.clear();
                    sender = (InetSocketAddress) socket.receive(inBuffer);
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    log.debug("DNS UDP socket error: {}", e.toString());
                    continue;
                }
                try {
                    int length = inBuffer.position();
                    if (!admitUdp(length, sender)) {
                        continue;
                    }
                    in.setIndex(0, length); // handle reads the query before it returns; a forwarded one keeps a copy
                    // null: dropped, or forwarded (the answer comes later through keep()); else out
                    if (processor.handleUdpInto(out, in, loop, this) != null) {
                        // outBuffer's position and limit are its own (the ByteBuf wraps a slice of it)
                        outBuffer.limit(out.writerIndex()).position(0);
                        socket.send(outBuffer, sender);
                    }
                } catch (IOException e) {
                    log.debug("DNS UDP send to {}: {}", sender, e.toString());
                } catch (RuntimeException e) {
                    metrics.errors.increment();
                    log.warn("DNS UDP query from {} failed", sender, e);
                }
            }
        }

        /** Sends to the sender of the packet being handled (a reply that outlives it is bound by {@link #keep()}). */
        @Override
        public void send(ByteBuf response) {
            send(response, sender);
        }

        @Override
        public QueryProcessor.Reply keep() {
            InetSocketAddress to = sender;
            return response -> send(response, to);
        }

        /** Sends a response computed later (from another thread) and releases it. */
        private void send(ByteBuf response, InetSocketAddress to) {
            try {
                socket.send(response.nioBuffer(), to);
            } catch (IOException e) {
                log.debug("DNS UDP send to {}: {}", to, e.toString());
            } finally {
                response.release();
            }
        }

        InetSocketAddress localAddress() {
            try {
                return (InetSocketAddress) socket.getLocalAddress();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        int receiveBuffer() {
            try {
                return socket.getOption(StandardSocketOptions.SO_RCVBUF);
            } catch (IOException e) {
                return -1;
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                log.debug("closing a DNS UDP socket: {}", e.toString());
            }
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private DnsServer(DnsConfig config, CatalogReader reader, MeterRegistry registry) {
        this.config = config;
        this.epoll = config.nativeTransport() && Epoll.isAvailable();
        int threads = config.ioThreads() > 0 ? config.ioThreads() : Runtime.getRuntime().availableProcessors();
        DefaultThreadFactory threadFactory = new DefaultThreadFactory("weft-dns", true);
        Class<? extends SocketChannel> socketClass;
        if (epoll) {
            group = new EpollEventLoopGroup(threads, threadFactory);
            udpFactory = EpollDatagramChannel::new;
            serverClass = EpollServerSocketChannel.class;
            socketClass = EpollSocketChannel.class;
            udpSockets = threads;
        } else {
            group = new NioEventLoopGroup(threads, threadFactory);
            udpFactory = NioDatagramChannel::new;
            serverClass = NioServerSocketChannel.class;
            socketClass = NioSocketChannel.class;
            udpSockets = 1;
        }
        this.cache = new AnswerCache(config.cacheEntries(), config.cacheBytes());
        this.metrics = new DnsMetrics(registry, cache::size, cache::bytes);
        this.rateLimiter = config.rateLimit() > 0 ? new ClientRateLimiter(config.rateLimit(), System::nanoTime) : null;
        RecursorClient recursors = null;
        if (!config.recursors().isEmpty()) {
            Class<? extends SocketChannel> sc = socketClass;
            recursors = new RecursorClient(config.recursors(), config.recursorTimeout(), udpFactory, () -> {
                try {
                    return sc.getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        this.processor = new QueryProcessor(config, reader, metrics, cache, recursors);
        try {
            this.main = bind(new InetSocketAddress(config.bindAddress(), config.port()));
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        listeners.put(main.bound(), main);
    }

    /**
     * Starts the server and binds its main listener ({@link DnsConfig#bindAddress()}, {@link DnsConfig#port()}).
     *
     * @throws IllegalStateException when the address cannot be bound
     */
    public static DnsServer start(DnsConfig config, CatalogReader reader, MeterRegistry registry) {
        DnsServer server = new DnsServer(config, reader, registry);
        log.info("DNS server listening on {} (udp+tcp), domain {}{}, {} transport with {} UDP socket(s), "
                        + "receive buffer {} bytes, recursors {}, rate limit {}", text(server.main.bound()),
                config.domain(), config.altDomain() == null ? "" : " and " + config.altDomain(),
                (server.epoll ? "epoll" : "nio") + (config.blockingUdp() ? " (TCP) and blocking UDP" : ""),
                server.udpSockets, server.receiveBuffer(server.main),
                config.recursors().stream().map(DnsServer::text).toList(),
                config.rateLimit() > 0 ? config.rateLimit() + " answers/s per client address" : "none");
        return server;
    }

    /** The main UDP address (with the actual port when 0 was asked). */
    public InetSocketAddress udpAddress() {
        return config.blockingUdp() ? main.blockingUdp().get(0).localAddress()
                : (InetSocketAddress) main.udp().get(0).localAddress();
    }

    /** The main TCP address: the same port as {@link #udpAddress()}. */
    public InetSocketAddress tcpAddress() {
        return (InetSocketAddress) main.tcp().localAddress();
    }

    /**
     * Listens on another address as well (UDP and TCP on the same port; port 0 picks one).
     *
     * @return the bound address
     * @throws IllegalStateException when it cannot be bound or the server is closed
     */
    public synchronized InetSocketAddress addListener(InetSocketAddress address) {
        if (closed) {
            throw new IllegalStateException("DNS server closed");
        }
        for (Listener l : listeners.values()) {
            if (l.requested().equals(address) || l.bound().equals(address)) {
                return l.bound();
            }
        }
        Listener l = bind(address);
        listeners.put(l.bound(), l);
        log.info("DNS server listening on {} (udp+tcp)", text(l.bound()));
        return l.bound();
    }

    /**
     * Stops listening on an address added with {@link #addListener} (the asked or the bound address).
     *
     * @return false when no such listener exists
     */
    public synchronized boolean removeListener(InetSocketAddress address) {
        Listener found = null;
        for (Listener l : listeners.values()) {
            if (l != main && (l.requested().equals(address) || l.bound().equals(address))) {
                found = l;
                break;
            }
        }
        if (found == null) {
            return false;
        }
        listeners.remove(found.bound());
        found.close();
        log.info("DNS server stopped listening on {}", text(found.bound()));
        return true;
    }

    /** Every bound address, the main one first. */
    public synchronized List<InetSocketAddress> listeners() {
        return new ArrayList<>(listeners.keySet());
    }

    /** Whether the Linux epoll transport is in use. */
    public boolean nativeTransport() {
        return epoll;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Listener l : listeners.values()) {
                l.close();
            }
            listeners.clear();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        log.info("DNS server on {} stopped", text(main.bound()));
    }

    // ---- binding ------------------------------------------------------------------------------------------

    private Listener bind(InetSocketAddress requested) {
        int attempts = requested.getPort() == 0 ? PORT_ATTEMPTS : 1;
        RuntimeException last = null;
        for (int i = 0; i < attempts; i++) {
            List<Channel> udp = new ArrayList<>();
            Channel tcp = null;
            try {
                // An ephemeral port comes from the TCP bind: Linux's UDP autobind may hand out a port that another
                // SO_REUSEPORT socket of the same user already holds (and would then share its queries), TCP's never.
                tcp = tcpBootstrap().bind(requested).syncUninterruptibly().channel();
                InetSocketAddress bound = (InetSocketAddress) tcp.localAddress();
                if (config.blockingUdp()) {
                    List<BlockingUdp> blocking = new ArrayList<>();
                    try {
                        for (int k = 0; k < udpSockets; k++) {
                            blocking.add(new BlockingUdp(bound, k));
                        }
                    } catch (IOException | RuntimeException e) {
                        blocking.forEach(BlockingUdp::close);
                        throw e;
                    }
                    return new Listener(requested, bound, List.of(), tcp, List.copyOf(blocking));
                }
                udp.add(udpBootstrap().bind(bound).syncUninterruptibly().channel());
                for (int k = 1; k < udpSockets; k++) {
                    udp.add(udpBootstrap().bind(bound).syncUninterruptibly().channel());
                }
                return new Listener(requested, bound, List.copyOf(udp), tcp, List.of());
            } catch (Exception e) {
                if (tcp != null) {
                    tcp.close().syncUninterruptibly();
                }
                for (Channel c : udp) {
                    c.close().syncUninterruptibly();
                }
                last = new IllegalStateException("cannot listen for DNS on " + requested + ": " + e, e);
            }
        }
        throw last;
    }

    private Bootstrap udpBootstrap() {
        // With epoll, read up to RECV_BATCH datagrams per system call (recvmmsg): Netty hands each one on as
        // its own packet, sliced from one buffer.
        int recvBuffer = epoll ? MAX_QUERY_DATAGRAM * RECV_BATCH : MAX_QUERY_DATAGRAM;
        Bootstrap b = new Bootstrap().group(group).channelFactory(udpFactory)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(recvBuffer))
                .handler(udpHandler);
        if (config.udpReceiveBuffer() > 0) {
            b.option(ChannelOption.SO_RCVBUF, config.udpReceiveBuffer());
        }
        if (epoll) {
            b.option(EpollChannelOption.SO_REUSEPORT, true);
            b.option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_QUERY_DATAGRAM);
        }
        return b;
    }

    private ServerBootstrap tcpBootstrap() {
        return new ServerBootstrap().group(group).channel(serverClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tcpConnections.incrementAndGet() > DnsLimits.MAX_TCP_CONNECTIONS) {
                            tcpConnections.decrementAndGet();
                            ch.close();
                            return;
                        }
                        ch.closeFuture().addListener(f -> tcpConnections.decrementAndGet());
                        // A frame longer than the largest query fails at its length prefix, before its bytes are
                        // read (fail fast): the connection is closed.
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, DnsLimits.TCP_IDLE_SECONDS,
                                        TimeUnit.SECONDS),
                                new LengthFieldBasedFrameDecoder(DnsLimits.MAX_QUERY_BYTES + 2, 0, 2, 0, 2),
                                new LengthFieldPrepender(2),
                                new TcpHandler());
                    }
                });
    }

    private static String text(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private int receiveBuffer(Listener l) {
        if (config.blockingUdp()) {
            return l.blockingUdp().get(0).receiveBuffer();
        }
        return ((DatagramChannelConfig) l.udp().get(0).config()).getReceiveBufferSize();
    }

    // ---- handlers -----------------------------------------------------------------------------------------

    /**
     * Whether a UDP query of {@code length} bytes from {@code sender} is answered, on either UDP path: an oversized
     * datagram or one over the sender's rate limit is dropped and counted (nothing is reflected).
     */
    private boolean admitUdp(int length, InetSocketAddress sender) {
        if (length > DnsLimits.MAX_QUERY_BYTES) {
            metrics.oversized.increment();
            return false;
        }
        if (rateLimiter != null && !rateLimiter.allow(sender.getAddress())) {
            metrics.rateLimitedUdp.increment();
            return false;
        }
        return true;
    }

    @ChannelHandler.Sharable
    private final class UdpHandler extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            InetSocketAddress sender = packet.sender();
            if (!admitUdp(packet.content().readableBytes(), sender)) {
                return;
            }
            ByteBuf out = processor.handle(packet.content(), false, ctx.alloc(), ctx.channel().eventLoop(),
                    later -> ctx.writeAndFlush(new DatagramPacket(later, sender)));
            if (out != null) {
                ctx.write(new DatagramPacket(out, sender), ctx.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors and the like on the shared socket: keep serving.
            log.debug("DNS UDP socket error: {}", cause.toString());
        }
    }

    private final class TcpHandler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (frame.readableBytes() < 12) {
                metrics.malformed.increment();
                ctx.close();
                return;
            }
            if (rateLimiter != null && ctx.channel().remoteAddress() instanceof InetSocketAddress peer
                    && !rateLimiter.allow(peer.getAddress())) {
                metrics.rateLimitedTcp.increment();
                ByteBuf refused = processor.refuse(frame, ctx.alloc());
                if (refused != null) {
                    ctx.writeAndFlush(refused);
                }
                return;
            }
            ByteBuf out = processor.handle(frame, true, ctx.alloc(), ctx.channel().eventLoop(),
                    later -> ctx.writeAndFlush(later));
            if (out != null) {
                ctx.writeAndFlush(out);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException) {
                metrics.oversized.increment();
            }
            log.debug("DNS TCP connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
