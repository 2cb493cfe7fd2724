package dev.weft.agent.checks;

import dev.weft.agent.http.GoDuration;
import dev.weft.kvstore.state.Catalogs;
import dev.weft.kvstore.state.HealthStatus;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One run of an HTTP check, as Consul's CheckHTTP with Go's http.Client: a fresh connection ({@code Connection:
 * close}, keep-alives off), Consul's default {@code User-Agent} and {@code Accept}, the check's Method, Header and
 * Body, up to 10 redirects, at most 4 KiB of body read, everything within the check's timeout. 2xx is passing, 429
 * warning, anything else or an error critical. All state lives on one event loop.
 */
final class HttpProbe {
    static final String USER_AGENT = "Consul Health Check";
    static final String ACCEPT = "text/plain, text/*, */*";
    private static final int MAX_REDIRECTS = 10;
    /** Go's request writer sets these itself and ignores them in Header. */
    private static final Set<String> MANAGED = Set.of("host", "content-length", "transfer-encoding", "trailer",
            "connection");

    private final ProbeClient client;
    private final CheckDefinition def;
    private final EventLoop loop;
    private final CompletableFuture<CheckResult> result = new CompletableFuture<>();

    // Event-loop state.
    private HttpTarget target;
    private long deadline;
    private String method;
    private byte[] body;
    private boolean keepSensitiveHeaders = true;
    private int redirects;
    private int attempt;
    private InetSocketAddress dialed;
    private HttpResponse response;
    private boolean informational;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    HttpProbe(ProbeClient client, CheckDefinition def, EventLoop loop) {
        this.client = client;
        this.def = def;
        this.loop = loop;
    }

    CompletableFuture<CheckResult> start() {
        method = def.method().isEmpty() ? "GET" : def.method();
        body = def.body().getBytes(StandardCharsets.UTF_8);
        try {
            target = HttpTarget.parse(def.http());
        } catch (IllegalArgumentException e) {
            result.complete(critical(e.getMessage()));
            return result;
        }
        long timeout = def.timeout().toNanos();
        deadline = System.nanoTime() + timeout;
        var timer = loop.schedule(this::timedOut, timeout, TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> timer.cancel(false));
        loop.execute(this::exchange);
        return result;
    }

    /** Resolves, connects and sends the request to {@link #target}; runs again for each redirect. */
    private void exchange() {
        int me = ++attempt;
        response = null;
        informational = false;
        received.reset();
        HttpTarget t = target;
        client.resolve(t.address()).whenComplete((addrs, err) -> loop.execute(() -> {
            if (me != attempt || result.isDone()) {
                return;
            }
            if (err != null) {
                fail(ProbeClient.describe(err, null, t.address().host()));
                return;
            }
            ChannelInitializer<Channel> init = new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (t.tls()) {
                        ch.pipeline().addLast(client.tls(ch, t, def.tlsSkipVerify()));
                    }
                    ch.pipeline().addLast(new HttpClientCodec()).addLast(new ResponseHandler(me));
                }
            };
            client.connect(loop, addrs, 0, deadline, init, result, null).whenComplete((ch, e) -> {
                if (e != null && me == attempt && !result.isDone()) {
                    fail(ProbeClient.describe(e, null, t.address().host()));
                } else if (ch != null) {
                    result.whenComplete((r, x) -> ch.close());
                }
            });
        }));
    }

    private FullHttpRequest request() {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
                target.requestTarget(), Unpooled.wrappedBuffer(body));
        HttpHeaders h = req.headers();
        String host = target.hostHeader();
        for (Map.Entry<String, List<String>> e : def.header().entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (name.equals("host")) {
                if (keepSensitiveHeaders && !e.getValue().isEmpty() && !e.getValue().get(0).isEmpty()) {
                    host = e.getValue().get(0);
                }
                continue;
            }
            if (MANAGED.contains(name) || (!keepSensitiveHeaders && (name.equals("authorization")
                    || name.equals("cookie") || name.equals("cookie2") || name.equals("www-authenticate")))) {
                continue;
            }
            for (String v : e.getValue()) {
                h.add(e.getKey(), v);
            }
        }
        h.set(HttpHeaderNames.HOST, host);
        if (!h.contains(HttpHeaderNames.USER_AGENT)) {
            h.set(HttpHeaderNames.USER_AGENT, USER_AGENT);
        }
        if (!h.contains(HttpHeaderNames.ACCEPT)) {
            h.set(HttpHeaderNames.ACCEPT, ACCEPT);
        }
        if (!target.userInfo().isEmpty() && !h.contains(HttpHeaderNames.AUTHORIZATION)) {
            h.set(HttpHeaderNames.AUTHORIZATION, "Basic " + Base64.getEncoder().encodeToString(
                    target.userInfo().getBytes(StandardCharsets.UTF_8)));
        }
        if (body.length > 0 || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        }
        h.set(HttpHeaderNames.CONNECTION, "close");
        return req;
    }

    private final class ResponseHandler extends SimpleChannelInboundHandler<HttpObject> {
        private final int me;

        ResponseHandler(int me) {
            this.me = me;
        }

        private boolean current() {
            return me == attempt && !result.isDone();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (!current()) {
                ctx.close();
                return;
            }
            dialed = (InetSocketAddress) ctx.channel().remoteAddress();
            ctx.writeAndFlush(request()).addListener(f -> {
                if (!f.isSuccess() && current()) {
                    fail(ProbeClient.describe(f.cause(), dialed, target.address().host()));
                    ctx.close();
                }
            });
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (!current()) {
                return;
            }
            if (msg.decoderResult().isFailure()) {
                fail("malformed HTTP response: " + msg.decoderResult().cause().getMessage());
                ctx.close();
                return;
            }
            if (msg instanceof HttpResponse r) {
                int code = r.status().code();
                if (code >= 100 && code < 200 && code != 101) {
                    informational = true; // 100 Continue, 103 Early Hints: wait for the real answer
                    return;
                }
                response = r;
                String location = r.headers().get(HttpHeaderNames.LOCATION);
                if (isRedirect(code) && location != null && !location.isEmpty()) {
                    ctx.close();
                    redirect(code, location);
                    return;
                }
            }
            if (msg instanceof HttpContent c) {
                if (informational) {
                    if (msg instanceof LastHttpContent) {
                        informational = false;
                    }
                    return;
                }
                if (response == null) {
                    return;
                }
                int room = Catalogs.MAX_OUTPUT_BYTES - received.size();
                int n = Math.min(room, c.content().readableBytes());
                if (n > 0) {
                    byte[] chunk = new byte[n];
                    c.content().getBytes(c.content().readerIndex(), chunk);
                    received.write(chunk, 0, n);
                }
                if (msg instanceof LastHttpContent || received.size() >= Catalogs.MAX_OUTPUT_BYTES) {
                    finish();
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (current()) {
                if (response != null) {
                    finish(); // body cut short: report what arrived, as Consul does
                } else {
                    fail("EOF");
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (current()) {
                if (response != null) {
                    finish();
                } else {
                    fail(ProbeClient.describe(cause, dialed, target.address().host()));
                }
            }
            ctx.close();
        }
    }

    private static boolean isRedirect(int code) {
        return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
    }

    /** Go's Client redirect policy: 301/302/303 turn into GET without a body (HEAD stays), 307/308 repeat. */
    private void redirect(int code, String location) {
        if (redirects >= MAX_REDIRECTS) {
            fail("stopped after " + MAX_REDIRECTS + " redirects");
            return;
        }
        HttpTarget next;
        try {
            next = target.resolve(location);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        redirects++;
        if (code == 301 || code == 302 || code == 303) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                method = "GET";
            }
            body = new byte[0];
        }
        if (!next.sameOrigin(target)) {
            keepSensitiveHeaders = false;
        }
        target = next;
        exchange();
    }

    private void timedOut() {
        if (result.isDone()) {
            return;
        }
        if (response != null && !informational) {
            finish(); // headers arrived, the body stalled: Consul reports the status with what was read
        } else {
            fail("timed out after " + GoDuration.format(def.timeout()) + " (Client.Timeout exceeded while awaiting"
                    + " headers)");
        }
    }

    private void finish() {
        int code = response.status().code();
        String reason = response.status().reasonPhrase();
        String status = reason == null || reason.isEmpty() ? Integer.toString(code) : code + " " + reason;
        String text = received.toString(StandardCharsets.UTF_8);
        String out = "HTTP " + def.method() + " " + def.http() + ": " + status + " Output: " + text;
        HealthStatus s = code >= 200 && code <= 299 ? HealthStatus.PASSING
                : code == 429 ? HealthStatus.WARNING : HealthStatus.CRITICAL;
        result.complete(new CheckResult(s, Catalogs.truncate(out, Catalogs.MAX_OUTPUT_BYTES)));
    }

    private void fail(String message) {
        result.complete(critical(message));
    }

    /** Go's url.Error: {@code Get "http://…": <cause>}. */
    private CheckResult critical(String message) {
        String m = def.method().isEmpty() ? "GET" : def.method();
        String op = m.substring(0, 1).toUpperCase(Locale.ROOT) + m.substring(1).toLowerCase(Locale.ROOT);
        String url = target == null ? def.http() : target.toString();
        return new CheckResult(HealthStatus.CRITICAL,
                Catalogs.truncate(op + " \"" + url + "\": " + message, Catalogs.MAX_OUTPUT_BYTES));
    }
}
