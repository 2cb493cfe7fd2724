package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonGenerator;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/agent/metrics}: with {@code ?format=prometheus} the Prometheus text exposition of every meter;
 * otherwise a summary in the shape of Consul's JSON (Timestamp, Gauges, Points, Counters, Samples; times in ms).
 */
final class MetricsEndpoint implements Endpoint {
    static final String PATH = "/v1/agent/metrics";
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss Z 'UTC'");

    private final ApiContext ctx;

    MetricsEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        if ("prometheus".equals(req.param("format"))) {
            byte[] text = ctx.registry.scrape().getBytes(StandardCharsets.UTF_8);
            return CompletableFuture.completedFuture(new ApiResponse(200, PROMETHEUS, text));
        }
        List<Meter> gauges = new ArrayList<>();
        List<Meter> counters = new ArrayList<>();
        List<Meter> samples = new ArrayList<>();
        for (Meter m : ctx.registry.getMeters()) {
            if (m instanceof Gauge || m instanceof TimeGauge) {
                gauges.add(m);
            } else if (m instanceof Counter || m instanceof FunctionCounter) {
                counters.add(m);
            } else if (m instanceof Timer || m instanceof FunctionTimer || m instanceof DistributionSummary) {
                samples.add(m);
            }
        }
        byte[] body = ConsulJson.write(g -> {
            g.writeStartObject();
            g.writeStringField("Timestamp", ZonedDateTime.now(ctx.clock.withZone(ZoneOffset.UTC)).format(TIMESTAMP));
            g.writeArrayFieldStart("Gauges");
            for (Meter m : gauges) {
                double v = m instanceof Gauge gauge ? gauge.value() : ((TimeGauge) m).value(TimeUnit.MILLISECONDS);
                start(g, m);
                number(g, "Value", v);
                labels(g, m);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("Points");
            g.writeEndArray();
            g.writeArrayFieldStart("Counters");
            for (Meter m : counters) {
                double v = m instanceof Counter c ? c.count() : ((FunctionCounter) m).count();
                start(g, m);
                number(g, "Count", v);
                number(g, "Sum", v);
                labels(g, m);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("Samples");
            for (Meter m : samples) {
                double count;
                double sum;
                double max = Double.NaN;
                if (m instanceof Timer t) {
                    count = t.count();
                    sum = t.totalTime(TimeUnit.MILLISECONDS);
                    max = t.max(TimeUnit.MILLISECONDS);
                } else if (m instanceof FunctionTimer t) {
                    count = t.count();
                    sum = t.totalTime(TimeUnit.MILLISECONDS);
                } else {
                    DistributionSummary d = (DistributionSummary) m;
                    count = d.count();
                    sum = d.totalAmount();
                    max = d.max();
                }
                start(g, m);
                number(g, "Count", count);
                number(g, "Sum", sum);
                if (!Double.isNaN(max)) {
                    number(g, "Max", max);
                }
                number(g, "Mean", count == 0 ? 0 : sum / count);
                labels(g, m);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        return CompletableFuture.completedFuture(ApiResponse.json(body));
    }

    private static void start(JsonGenerator g, Meter m) throws IOException {
        g.writeStartObject();
        g.writeStringField("Name", m.getId().getName());
    }

    private static void number(JsonGenerator g, String name, double v) throws IOException {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            g.writeNullField(name);
        } else {
            g.writeNumberField(name, v);
        }
    }

    private static void labels(JsonGenerator g, Meter m) throws IOException {
        g.writeObjectFieldStart("Labels");
        for (Tag t : m.getId().getTagsAsIterable()) {
            g.writeStringField(t.getKey(), t.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }
}
