import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The memory floor of a client agent's libraries, without any of weft (bench/client-floor.sh). Loads and uses
 * only the parts named in its argument, a comma-separated subset of:
 * <ul>
 *   <li>{@code netty}: an HTTP/1.1 server on Netty's epoll transport (2 event loops) on 127.0.0.1:PORT;</li>
 *   <li>{@code jackson}: an ObjectMapper that writes and reads a list of records (every HTTP answer is JSON);</li>
 *   <li>{@code metrics}: a Micrometer Prometheus registry, scraped at /metrics;</li>
 *   <li>{@code jvm}: Micrometer's JVM and process binders (memory, threads, processor, uptime, GC);</li>
 *   <li>{@code dns}: a dnsjava query message built and parsed.</li>
 * </ul>
 * Prints "ready" when it serves (or, without netty, when it has done the rest), then sleeps.
 */
public final class Floor {
    record Service(String id, String service, String address, int port, List<String> tags,
                   Map<String, String> meta) {
    }

    public static void main(String[] args) throws Exception {
        Set<String> parts = Set.of(args.length > 0 ? args[0].split(",") : new String[0]);
        int port = Integer.parseInt(args.length > 1 ? args[1] : "47001");
        PrometheusMeterRegistry registry = parts.contains("metrics")
                ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
        if (parts.contains("jvm")) {
            if (registry == null) {
                throw new IllegalArgumentException("jvm needs metrics");
            }
            new JvmMemoryMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
            new JvmGcMetrics().bindTo(registry);
        }
        ObjectMapper json = parts.contains("jackson") ? new ObjectMapper() : null;
        List<Service> services = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            services.add(new Service("web-" + i, "web", "10.0.0." + i, 80, List.of("v1"), Map.of("k", "v")));
        }
        if (json != null && json.readValue(json.writeValueAsBytes(services), Service[].class).length != 10) {
            throw new IllegalStateException("JSON round trip");
        }
        if (parts.contains("dns")) {
            org.xbill.DNS.Message q = org.xbill.DNS.Message.newQuery(org.xbill.DNS.Record.newRecord(
                    org.xbill.DNS.Name.fromString("web.service.weft."), org.xbill.DNS.Type.A, org.xbill.DNS.DClass.IN));
            new org.xbill.DNS.Message(q.toWire());
        }
        if (parts.contains("netty")) {
            EventLoopGroup group = new EpollEventLoopGroup(2);
            new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req)
                                                throws Exception {
                                            byte[] body = req.uri().startsWith("/metrics") && registry != null
                                                    ? registry.scrape().getBytes(StandardCharsets.UTF_8)
                                                    : json != null ? json.writeValueAsBytes(services)
                                                    : "[]".getBytes(StandardCharsets.UTF_8);
                                            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                    HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                                            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length);
                                            ctx.writeAndFlush(r);
                                        }
                                    });
                        }
                    }).bind("127.0.0.1", port).sync();
        }
        System.out.println("ready");
        Thread.sleep(Long.MAX_VALUE);
    }
}
