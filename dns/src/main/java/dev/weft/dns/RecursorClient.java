package dev.weft.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Forwards questions that are not ours to the configured upstream resolvers, without blocking: every step runs
 * as a callback on the event loop of the query that asked. Each upstream is tried over UDP (a connected
 * socket on a random port, a random query ID) and, when its answer is truncated, again over TCP; a timeout,
 * an error, or an answer other than NOERROR/NXDOMAIN moves on to the next upstream. When none answers, the
 * callback gets null (the server answers SERVFAIL).
 */
final class RecursorClient {
    private static final Logger log = LoggerFactory.getLogger(RecursorClient.class);
    /** Upstream queries in flight at once; beyond, queries fail fast instead of opening more sockets. */
    static final int MAX_IN_FLIGHT = DnsLimits.MAX_FORWARDS_IN_FLIGHT;
    static final int UPSTREAM_PAYLOAD = DnsLimits.UPSTREAM_PAYLOAD;

    private final List<InetSocketAddress> upstreams;
    private final long timeoutMillis;
    private final ChannelFactory<? extends Channel> udpFactory;
    private final ChannelFactory<? extends Channel> tcpFactory;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger inFlight = new AtomicInteger();

    RecursorClient(List<InetSocketAddress> upstreams, Duration timeout, ChannelFactory<? extends Channel> udpFactory,
                   ChannelFactory<? extends Channel> tcpFactory) {
        this.upstreams = List.copyOf(upstreams);
        this.timeoutMillis = Math.max(1, timeout.toMillis());
        this.udpFactory = udpFactory;
        this.tcpFactory = tcpFactory;
    }

    /** Resolves {@code question}; {@code done} runs on {@code loop} with the upstream's response, or null. */
    void resolve(EventLoop loop, Record question, boolean checkingDisabled, boolean dnssecOk,
                 Consumer<Message> done) {
        if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
            inFlight.decrementAndGet();
            log.debug("forwarding refused: {} upstream queries in flight", MAX_IN_FLIGHT);
            loop.execute(() -> done.accept(null));
            return;
        }
        Exchange e = new Exchange(loop, question, checkingDisabled, dnssecOk, done);
        loop.execute(e::tryNext);
    }

    private int nextId() {
        synchronized (random) {
            return random.nextInt(0x10000);
        }
    }

    /** One question's walk over the upstreams. Confined to its event loop, so it needs no locking. */
    private final class Exchange {
        private final EventLoop loop;
        private final Record question;
        private final boolean checkingDisabled;
        private final boolean dnssecOk;
        private final Consumer<Message> done;
        private int next;
        /** Bumped whenever an attempt ends, so that late events of an old attempt are ignored. */
        private int attempt;
        private Channel channel;
        private ScheduledFuture<?> timer;
        private int id;
        private byte[] wire;

        Exchange(EventLoop loop, Record question, boolean checkingDisabled, boolean dnssecOk,
                 Consumer<Message> done) {
            this.loop = loop;
            this.question = question;
            this.checkingDisabled = checkingDisabled;
            this.dnssecOk = dnssecOk;
            this.done = done;
        }

        void tryNext() {
            if (next >= upstreams.size()) {
                finish(null);
                return;
            }
            InetSocketAddress upstream = upstreams.get(next++);
            id = nextId();
            Message m = new Message(id);
            m.getHeader().setFlag(Flags.RD);
            if (checkingDisabled) {
                m.getHeader().setFlag(Flags.CD);
            }
            m.addRecord(question, Section.QUESTION);
            m.addRecord(new OPTRecord(UPSTREAM_PAYLOAD, 0, 0, dnssecOk ? ExtendedFlags.DO : 0), Section.ADDITIONAL);
            wire = m.toWire();
            udp(upstream);
        }

        private void udp(InetSocketAddress upstream) {
            int mine = ++attempt;
            Bootstrap b = new Bootstrap().group(loop).channelFactory(udpFactory)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            try {
                                ByteBuf buf = msg instanceof DatagramPacket p ? p.content() : (ByteBuf) msg;
                                onUdp(mine, upstream, ByteBufUtil.getBytes(buf));
                            } finally {
                                ReferenceCountUtil.release(msg);
                            }
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            fail(mine, upstream, "udp: " + cause);
                        }
                    });
            start(b, mine, upstream);
        }

        private void tcp(InetSocketAddress upstream) {
            int mine = ++attempt;
            Bootstrap b = new Bootstrap().group(loop).channelFactory(tcpFactory)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(65537, 0, 2, 0, 2),
                                    new LengthFieldPrepender(2), new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            try {
                                                onTcp(mine, upstream, ByteBufUtil.getBytes((ByteBuf) msg));
                                            } finally {
                                                ReferenceCountUtil.release(msg);
                                            }
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext ctx) {
                                            fail(mine, upstream, "tcp: connection closed");
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            fail(mine, upstream, "tcp: " + cause);
                                        }
                                    });
                        }
                    });
            start(b, mine, upstream);
        }

        private void start(Bootstrap b, int mine, InetSocketAddress upstream) {
            timer = loop.schedule(() -> fail(mine, upstream, "timeout after " + timeoutMillis + " ms"),
                    timeoutMillis, TimeUnit.MILLISECONDS);
            ChannelFuture connect = b.connect(upstream);
            channel = connect.channel();
            connect.addListener((ChannelFuture cf) -> {
                if (!cf.isSuccess()) {
                    fail(mine, upstream, "connect: " + cf.cause());
                    return;
                }
                cf.channel().writeAndFlush(Unpooled.wrappedBuffer(wire)).addListener((ChannelFuture wf) -> {
                    if (!wf.isSuccess()) {
                        fail(mine, upstream, "send: " + wf.cause());
                    }
                });
            });
        }

        private void onUdp(int mine, InetSocketAddress upstream, byte[] bytes) {
            if (mine != attempt) {
                return;
            }
            Message r = parse(bytes);
            if (r == null) {
                // A truncated answer cut in the middle of a record still says TC in its header.
                if (bytes.length >= 12 && headerId(bytes) == id && (bytes[2] & 0x80) != 0 && (bytes[2] & 0x02) != 0) {
                    endAttempt();
                    tcp(upstream);
                }
                return;
            }
            if (!matches(r)) {
                return;
            }
            endAttempt();
            if (r.getHeader().getFlag(Flags.TC)) {
                tcp(upstream);
            } else {
                accept(upstream, r);
            }
        }

        private void onTcp(int mine, InetSocketAddress upstream, byte[] bytes) {
            if (mine != attempt) {
                return;
            }
            Message r = parse(bytes);
            if (r == null || !matches(r)) {
                fail(mine, upstream, "tcp: unexpected answer");
                return;
            }
            endAttempt();
            accept(upstream, r);
        }

        private void accept(InetSocketAddress upstream, Message r) {
            int rcode = r.getRcode();
            if (rcode == Rcode.NOERROR || rcode == Rcode.NXDOMAIN) {
                finish(r);
                return;
            }
            log.debug("recursor {} answered {} for {}", upstream, Rcode.string(rcode), question.getName());
            tryNext();
        }

        private void fail(int mine, InetSocketAddress upstream, String why) {
            if (mine != attempt) {
                return;
            }
            endAttempt();
            log.debug("recursor {} failed for {}: {}", upstream, question.getName(), why);
            tryNext();
        }

        private void endAttempt() {
            attempt++;
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
            if (channel != null) {
                // Close after the event loop's current task: this often runs inside the channel's own read, and
                // epoll's read loop may read its file descriptor once more after a close there. When another
                // thread has meanwhile accepted a connection that got the same descriptor number, that read
                // would steal the connection's bytes (seen: a TCP client's query arriving as a "datagram").
                Channel c = channel;
                channel = null;
                loop.execute(c::close);
            }
        }

        private void finish(Message r) {
            inFlight.decrementAndGet();
            done.accept(r);
        }

        private boolean matches(Message r) {
            Record q = r.getQuestion();
            return r.getHeader().getID() == id && r.getHeader().getFlag(Flags.QR) && q != null
                    && q.getName().equals(question.getName()) && q.getType() == question.getType()
                    && q.getDClass() == question.getDClass();
        }
    }

    private static int headerId(byte[] b) {
        return (b[0] & 0xFF) << 8 | (b[1] & 0xFF);
    }

    private static Message parse(byte[] bytes) {
        try {
            return new Message(bytes);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
