package dev.weft.agent.checks;

import dev.weft.agent.http.GoDuration;
import dev.weft.kvstore.state.HealthStatus;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The network side of HTTP and TCP checks: one Netty NIO event loop for all connections, plus a few threads for
 * the (blocking) JDK name lookups so a slow DNS answer never stalls the event loop. Every probe has its own
 * deadline; a connection that hangs costs only that probe its timeout. Error texts follow Go's
 * ({@code dial tcp 127.0.0.1:1: connect: connection refused}), which Consul's checks show.
 */
final class ProbeClient implements AutoCloseable {
    /** TCP checks only connect: a shareable handler that adds nothing. */
    private static final ChannelHandler NOTHING = new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
        }
    };

    private final EventLoopGroup group;
    private final ThreadPoolExecutor lookups;
    /** Built on the first HTTPS check ({@link #context}). */
    private SslContext verifying;
    private SslContext trustAll;

    ProbeClient() {
        group = new NioEventLoopGroup(1, new DefaultThreadFactory("weft-checks-io", true));
        lookups = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory("weft-checks-dns", true));
        lookups.allowCoreThreadTimeOut(true);
    }

    /**
     * The TLS context of HTTPS checks, built when the first one runs: the JDK's trust store and TLS stack are
     * about 500 classes and 1-2 MiB of certificates that an agent without HTTPS checks never needs (client agents
     * run in a small JVM).
     */
    private synchronized SslContext context(boolean skipVerify) {
        try {
            if (skipVerify) {
                if (trustAll == null) {
                    trustAll = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
                            .build();
                }
                return trustAll;
            }
            if (verifying == null) {
                verifying = SslContextBuilder.forClient().build();
            }
            return verifying;
        } catch (SSLException e) {
            throw new IllegalStateException("cannot create the TLS context for HTTPS checks: " + e.getMessage(), e);
        }
    }

    /** One TCP connect to {@code hostPort} within {@code timeout}; never completes exceptionally. */
    CompletableFuture<CheckResult> tcp(String hostPort, Duration timeout) {
        CompletableFuture<CheckResult> result = new CompletableFuture<>();
        HostPort hp = HostPort.parse(hostPort);
        if (hp == null) {
            result.complete(new CheckResult(HealthStatus.CRITICAL,
                    "dial tcp " + hostPort + ": missing port in address"));
            return result;
        }
        EventLoop loop = group.next();
        long deadline = System.nanoTime() + timeout.toNanos();
        var timer = loop.schedule(() -> result.complete(new CheckResult(HealthStatus.CRITICAL,
                "dial tcp " + hostPort + ": i/o timeout (" + GoDuration.format(timeout) + ")")),
                timeout.toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> timer.cancel(false));
        resolve(hp).whenComplete((addrs, err) -> {
            if (err != null) {
                result.complete(new CheckResult(HealthStatus.CRITICAL, describe(err, null, hp.host())));
                return;
            }
            loop.execute(() -> connect(loop, addrs, 0, deadline, NOTHING, result, null)
                    .whenComplete((ch, e) -> {
                        if (e != null) {
                            result.complete(new CheckResult(HealthStatus.CRITICAL, describe(e, null, hp.host())));
                        } else {
                            ch.close();
                            result.complete(new CheckResult(HealthStatus.PASSING,
                                    "TCP connect " + hostPort + ": Success"));
                        }
                    }));
        });
        return result;
    }

    /** One HTTP check run (request, redirects, at most 4 KiB of body) within its timeout; never fails. */
    CompletableFuture<CheckResult> http(CheckDefinition def) {
        return new HttpProbe(this, def, group.next()).start();
    }

    /** Addresses of {@code hp}; IP literals without a lookup, names on the lookup threads. */
    CompletableFuture<List<InetSocketAddress>> resolve(HostPort hp) {
        String host = hp.host();
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            try {
                InetAddress a = InetAddress.getByAddress(NetUtil.createByteArrayFromIpAddressString(host));
                return CompletableFuture.completedFuture(List.of(new InetSocketAddress(a, hp.port())));
            } catch (UnknownHostException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    List<InetSocketAddress> out = new ArrayList<>();
                    for (InetAddress a : InetAddress.getAllByName(host)) {
                        out.add(new InetSocketAddress(a, hp.port()));
                    }
                    return out;
                } catch (UnknownHostException e) {
                    throw new CompletionException(e);
                }
            }, lookups);
        } catch (RuntimeException e) { // rejected: closing
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Connects to the addresses in turn (as Go's dialer falls back), each attempt bounded by what is left of the
     * deadline. Fails with a {@link DialException} naming the last address tried. Must run on {@code loop}.
     */
    CompletableFuture<Channel> connect(EventLoop loop, List<InetSocketAddress> addrs, int index, long deadline,
                                       ChannelHandler handler, CompletableFuture<?> owner, DialException last) {
        CompletableFuture<Channel> out = new CompletableFuture<>();
        if (owner.isDone()) {
            out.completeExceptionally(new ClosedChannelException());
            return out;
        }
        if (index >= addrs.size()) {
            out.completeExceptionally(last != null ? last
                    : new DialException(null, new ConnectException("no addresses")));
            return out;
        }
        InetSocketAddress addr = addrs.get(index);
        long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (remainingMillis <= 0) {
            out.completeExceptionally(new DialException(addr, new io.netty.channel.ConnectTimeoutException()));
            return out;
        }
        ChannelFuture f = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, remainingMillis))
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(handler)
                .connect(addr);
        f.addListener((ChannelFuture cf) -> {
            if (cf.isSuccess()) {
                if (owner.isDone()) {
                    cf.channel().close();
                    out.completeExceptionally(new ClosedChannelException());
                } else {
                    out.complete(cf.channel());
                }
                return;
            }
            DialException e = new DialException(addr, cf.cause());
            connect(loop, addrs, index + 1, deadline, handler, owner, e).whenComplete((ch, err) -> {
                if (err != null) {
                    out.completeExceptionally(err);
                } else {
                    out.complete(ch);
                }
            });
        });
        owner.whenComplete((r, e) -> f.channel().close()); // cancelled or timed out: drop the attempt
        return out;
    }

    /** A TLS handler for {@code target}: SNI and (unless skipping) certificate and host name verification. */
    SslHandler tls(Channel ch, HttpTarget target, boolean skipVerify) {
        SslContext ctx = context(skipVerify);
        SslHandler h = ctx.newHandler(ch.alloc(), target.address().host(), target.address().port());
        if (!skipVerify) {
            SSLEngine engine = h.engine();
            SSLParameters p = engine.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(p);
        }
        return h;
    }

    /** Go-style text for a failed connection or exchange. */
    static String describe(Throwable t, InetSocketAddress fallback, String host) {
        Throwable e = unwrap(t);
        InetSocketAddress addr = fallback;
        if (e instanceof DialException d) {
            addr = d.address;
            e = unwrap(d.getCause());
        }
        String dial = "dial tcp " + (addr == null ? "" : format(addr)) + ": ";
        if (e instanceof UnknownHostException) {
            return "dial tcp: lookup " + host + ": no such host";
        }
        if (e instanceof io.netty.channel.ConnectTimeoutException) {
            return dial + "i/o timeout";
        }
        if (e instanceof ConnectException) {
            return dial + "connect: " + lowerFirst(beforeColon(e.getMessage()));
        }
        if (find(t, NotSslRecordException.class) != null) {
            return "tls: first record does not look like a TLS handshake"; // Go's words for a plain-HTTP server
        }
        SSLException ssl = find(t, SSLException.class);
        if (ssl != null) {
            return "tls: " + deepestMessage(ssl);
        }
        if (e instanceof ClosedChannelException) {
            return "EOF";
        }
        if (e instanceof IOException && e.getMessage() != null) {
            return lowerFirst(e.getMessage());
        }
        return e.toString();
    }

    static String format(InetSocketAddress a) {
        String ip = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    private static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable e = t; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (type.isInstance(e)) {
                return type.cast(e);
            }
        }
        return null;
    }

    private static String deepestMessage(Throwable t) {
        String msg = t.getMessage();
        for (Throwable e = t.getCause(); e != null && e != e.getCause(); e = e.getCause()) {
            if (e.getMessage() != null) {
                msg = e.getMessage();
            }
        }
        return msg == null ? t.toString() : msg;
    }

    private static String beforeColon(String s) {
        if (s == null) {
            return "connection failed";
        }
        int i = s.indexOf(": ");
        return i < 0 ? s : s.substring(0, i);
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
    }

    @Override
    public void close() {
        lookups.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** A failed connect to one address. */
    static final class DialException extends IOException {
        final InetSocketAddress address;

        DialException(InetSocketAddress address, Throwable cause) {
            super(cause == null ? "dial failed" : cause.getMessage(), cause);
            this.address = address;
        }
    }
}
