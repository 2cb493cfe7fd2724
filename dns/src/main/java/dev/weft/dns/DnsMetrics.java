package dev.weft.dns;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The DNS server's Micrometer meters. Query counters are tagged by qtype (a fixed set, others as
 * {@code other}) and rcode, and looked up in an array so that counting a query allocates nothing. The counters
 * every query touches count in a {@link LongAdder} that the registry reads ({@link FunctionCounter}): cheaper per
 * increment than a Micrometer counter's {@code DoubleAdder}, which matters to C1-compiled client agents.
 */
final class DnsMetrics {
    private static final int[] TYPES = {Type.A, Type.AAAA, Type.SRV, Type.PTR, Type.TXT, Type.ANY, Type.SOA,
        Type.NS, Type.CNAME, Type.MX, Type.HTTPS, Type.SVCB, Type.CAA, Type.DS, Type.DNSKEY, Type.AXFR, Type.IXFR};
    private static final int RCODES = 32;

    private final MeterRegistry registry;
    private final LongAdder[] queries = new LongAdder[(TYPES.length + 1) * RCODES];
    final Counter forwarded;
    final Counter forwardFailed;
    final Timer forwardLatency;
    final Counter truncated;
    final Counter malformed;
    final LongAdder cacheHits = new LongAdder();
    final LongAdder cacheMisses = new LongAdder();
    final Counter errors;
    final Counter rateLimitedUdp;
    final Counter rateLimitedTcp;
    final Counter oversized;

    DnsMetrics(MeterRegistry registry, Supplier<Number> cacheSize, Supplier<Number> cacheBytes) {
        this.registry = registry;
        forwarded = Counter.builder("weft.dns.forwarded").description("queries answered by a recursor")
                .tag("result", "ok").register(registry);
        forwardFailed = Counter.builder("weft.dns.forwarded").description("queries no recursor answered (SERVFAIL)")
                .tag("result", "failed").register(registry);
        forwardLatency = Timer.builder("weft.dns.forward.latency").description("time to an upstream answer")
                .register(registry);
        truncated = Counter.builder("weft.dns.truncated").description("UDP responses sent with TC")
                .register(registry);
        malformed = Counter.builder("weft.dns.malformed").description("packets answered FORMERR or dropped")
                .register(registry);
        FunctionCounter.builder("weft.dns.cache.hits", cacheHits, LongAdder::sum).register(registry);
        FunctionCounter.builder("weft.dns.cache.misses", cacheMisses, LongAdder::sum).register(registry);
        errors = Counter.builder("weft.dns.errors").description("queries that failed inside the server (SERVFAIL)")
                .register(registry);
        rateLimitedUdp = Counter.builder("weft.dns.rate.limited")
                .description("queries over the per-client rate limit (UDP: dropped, TCP: REFUSED)")
                .tag("transport", "udp").register(registry);
        rateLimitedTcp = Counter.builder("weft.dns.rate.limited")
                .description("queries over the per-client rate limit (UDP: dropped, TCP: REFUSED)")
                .tag("transport", "tcp").register(registry);
        oversized = Counter.builder("weft.dns.oversized")
                .description("queries larger than the limit (UDP: dropped, TCP: connection closed)")
                .register(registry);
        Gauge.builder("weft.dns.cache.size", cacheSize).description("cached answers").register(registry);
        Gauge.builder("weft.dns.cache.bytes", cacheBytes).description("approximate heap bytes of the cached answers")
                .baseUnit("bytes").register(registry);
    }

    void query(int qtype, int rcode) {
        int slot = TYPES.length;
        for (int i = 0; i < TYPES.length; i++) {
            if (TYPES[i] == qtype) {
                slot = i;
                break;
            }
        }
        int index = slot * RCODES + (rcode & (RCODES - 1));
        LongAdder c = queries[index];
        if (c == null) {
            c = register(index, slot == TYPES.length ? "other" : Type.string(qtype), Rcode.string(rcode));
        }
        c.increment();
    }

    private synchronized LongAdder register(int index, String qtype, String rcode) {
        LongAdder c = queries[index];
        if (c == null) {
            c = new LongAdder();
            FunctionCounter.builder("weft.dns.queries", c, LongAdder::sum)
                    .description("queries answered, by qtype and rcode").tag("qtype", qtype).tag("rcode", rcode)
                    .register(registry);
            queries[index] = c;
        }
        return c;
    }

    void forwarded(boolean ok, long nanos) {
        (ok ? forwarded : forwardFailed).increment();
        forwardLatency.record(nanos, TimeUnit.NANOSECONDS);
    }
}
