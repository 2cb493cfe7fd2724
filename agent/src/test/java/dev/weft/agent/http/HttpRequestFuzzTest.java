package dev.weft.agent.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.weft.kvstore.state.Limits;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the HTTP API's request handling (Jazzer), on an in-memory store.
 * <ul>
 * <li>{@link #requestTarget}: any request target through {@link ApiRequest} (path and parameter decoding),
 * {@link Router#find}, {@link QueryOptions}, {@link GoDuration} and the index/flags parameters: either a handled
 * error (400, {@link HttpError}) or a route/404, never another exception.</li>
 * <li>{@link #rawConnection}: any bytes as one connection through the server's real pipeline (codec with its
 * limits, {@link BodyLimits}, aggregator, {@link HttpApiHandler} and every endpoint): no answer is a 500
 * "Internal error" (an unexpected exception), and a connection is never closed without an answer when a
 * request was complete.</li>
 * </ul>
 * In {@code ./mvnw verify} only the inputs under {@code HttpRequestFuzzTestInputs/} run; {@code JAZZER_FUZZ=1}
 * fuzzes (see bench/fuzz.sh).
 */
class HttpRequestFuzzTest {
    private static final int RESET_EVERY = 5_000;

    private static Router router;
    private static HttpApiHandler.RequestTimers timers;
    private static int runs;

    private static void fresh() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AgentInfo info = new AgentInfo("fuzz-node", "dc1", true, "test", "", "127.0.0.1", 1);
        ApiContext ctx = new ApiContext(new InMemoryStore(), info, registry, Runnable::run, Clock.systemUTC(), null);
        router = new Router(ctx);
        timers = new HttpApiHandler.RequestTimers(registry);
    }

    @FuzzTest(maxDuration = "10m")
    void requestTarget(byte[] bytes) {
        String target = new String(bytes, StandardCharsets.ISO_8859_1); // as Netty decodes the request line
        ApiRequest req;
        try {
            req = ApiRequest.from(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target), null);
        } catch (IllegalArgumentException e) {
            return; // a malformed escape: answered 400 by HttpApiHandler
        }
        if (router == null) {
            fresh();
        }
        router.find(req.path());
        Limits.checkKey(req.path(), true);
        handled(() -> QueryOptions.parse(req));
        handled(() -> req.indexParam("cas", "CAS index"));
        handled(() -> req.unsignedParam("flags", "flags"));
        handled(req::encodedQuery);
        for (String name : List.of("wait", "ttl", "lock-delay")) {
            String v = req.param(name);
            if (v != null) {
                try {
                    GoDuration.parse(v);
                } catch (IllegalArgumentException e) {
                    // a handled error
                }
            }
        }
    }

    private static void handled(Runnable r) {
        try {
            r.run();
        } catch (HttpError e) {
            assertTrue(e.status() >= 400 && e.status() < 500, "status " + e.status());
            assertFalse(e.getMessage() == null || e.getMessage().isEmpty(), "an error has a message");
        }
    }

    @FuzzTest(maxDuration = "10m")
    void rawConnection(byte[] bytes) {
        if (router == null || ++runs % RESET_EVERY == 0) {
            fresh();
        }
        EmbeddedChannel ch = new EmbeddedChannel(
                new HttpServerCodec(HttpLimits.MAX_REQUEST_LINE_BYTES, HttpLimits.MAX_HEADER_BYTES,
                        HttpLimits.MAX_CHUNK_BYTES),
                new BodyLimits(router),
                new HttpObjectAggregator(HttpLimits.MAX_AGGREGATED_BYTES, true),
                new HttpApiHandler(router, timers));
        try {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
            ch.runPendingTasks();
            ch.checkException();
            String out = outbound(ch);
            assertFalse(out.contains("\r\n\r\nInternal error"), "an unexpected exception answered 500:\n" + out);
            if (!ch.isActive() && completeRequest(bytes)) {
                assertTrue(out.startsWith("HTTP/1."), "closed without an HTTP/1.x answer: [" + out + "]");
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    /** Whether the bytes hold at least one full request head (the codec then answers something). */
    private static boolean completeRequest(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.ISO_8859_1);
        return s.contains("\r\n\r\n") && s.startsWith("GET /v1/") && !s.contains("Content-Length")
                && !s.contains("Transfer-Encoding") && !s.contains("index=");
    }

    private static String outbound(EmbeddedChannel ch) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof ByteBuf b) {
                byte[] a = new byte[b.readableBytes()];
                b.readBytes(a);
                buf.writeBytes(a);
                b.release();
            }
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void harnessSeesAnswers() {
        fresh();
        EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(), new BodyLimits(router),
                new HttpObjectAggregator(1 << 20, true), new HttpApiHandler(router, timers));
        ch.writeInbound(Unpooled.copiedBuffer("GET /v1/kv/missing HTTP/1.1\r\nHost: x\r\n\r\n",
                StandardCharsets.US_ASCII));
        ch.runPendingTasks();
        String out = outbound(ch);
        assertTrue(out.startsWith("HTTP/1.1 404"), out);
        assertEquals(1, out.split("HTTP/1.1 ").length - 1);
        ch.finishAndReleaseAll();
    }
}
