package dev.weft.dns;

import dev.weft.kvstore.state.CatalogView;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The query path shared by UDP and TCP: decode, look the answer up in the cache (keyed per catalog index),
 * else compute it from the catalog view and render it, patch the query's ID, flags and question case into the
 * bytes; names that are not ours go to the {@link RecursorClient} (or are refused). Never throws: malformed
 * packets are answered FORMERR or dropped, internal failures SERVFAIL.
 */
final class QueryProcessor {
    private static final Logger log = LoggerFactory.getLogger(QueryProcessor.class);

    /** Sends a response computed later (forwarding). */
    interface Reply {
        void send(ByteBuf response);

        /**
         * The reply to keep for an answer that comes later. A reply that stands for "the sender of the packet
         * being handled" (reused per packet) returns one bound to that sender; by default a reply is itself.
         */
        default Reply keep() {
            return this;
        }
    }

    private record Computed(long index, Answer answer) {
    }

    private final CatalogReader reader;
    private final CatalogZone zone;
    private final DnsMetrics metrics;
    private final AnswerCache cache;
    private final RecursorClient recursors;
    private final boolean recursionAvailable;

    QueryProcessor(DnsConfig config, CatalogReader reader, DnsMetrics metrics, AnswerCache cache,
                   RecursorClient recursors) {
        this.reader = reader;
        this.zone = new CatalogZone(config);
        this.metrics = metrics;
        this.cache = cache;
        this.recursors = recursors;
        this.recursionAvailable = recursors != null;
    }

    /**
     * Handles one query packet (its readable bytes). Returns the response to send now, or null when there is
     * nothing to send now: the packet is dropped, or the answer will come through {@code later} (on
     * {@code loop}).
     */
    ByteBuf handle(ByteBuf in, boolean tcp, ByteBufAllocator alloc, EventLoop loop, Reply later) {
        return handle(in, tcp, alloc, null, loop, later);
    }

    /**
     * As {@link #handle(ByteBuf, boolean, ByteBufAllocator, EventLoop, Reply)} for a UDP query, but a response
     * sent now is written into {@code reuse} (cleared first; it must hold {@link DnsLimits#EDNS_PAYLOAD} bytes),
     * and that buffer is returned: the caller sends it and keeps it. A forwarded query's answer still comes
     * through {@code later}, in a buffer of its own.
     */
    ByteBuf handleUdpInto(ByteBuf reuse, ByteBuf in, EventLoop loop, Reply later) {
        return handle(in, false, null, reuse, loop, later);
    }

    /** Responses sent now go into {@code reuse} when it is given, else into a buffer from {@code alloc}. */
    private ByteBuf handle(ByteBuf in, boolean tcp, ByteBufAllocator alloc, ByteBuf reuse, EventLoop loop,
                           Reply later) {
        Query q = Query.decode(in, tcp);
        try {
            switch (q.status) {
                case DROP:
                    metrics.malformed.increment();
                    return null;
                case FORMERR:
                    metrics.malformed.increment();
                    return headerOnly(buffer(alloc, reuse, 12), q, Rcode.FORMERR);
                case NOTIMP:
                    return headerOnly(buffer(alloc, reuse, 12), q, Rcode.NOTIMP);
                case BADVERS:
                    return badVersion(alloc, reuse, q, in);
                default:
                    return answer(q, in, alloc, reuse, loop, later);
            }
        } catch (IOException | RuntimeException e) {
            metrics.errors.increment();
            log.warn("DNS query failed (answered SERVFAIL): {}", e.toString());
            return headerOnly(buffer(alloc, reuse, 12), q, Rcode.SERVFAIL);
        }
    }

    private static ByteBuf buffer(ByteBufAllocator alloc, ByteBuf reuse, int size) {
        return reuse != null ? reuse.clear() : alloc.ioBuffer(size);
    }

    /**
     * The answer to a query over the client's rate limit (TCP): REFUSED with the header only, or null when the
     * packet would be dropped anyway.
     */
    ByteBuf refuse(ByteBuf in, ByteBufAllocator alloc) {
        Query q = Query.decode(in, true);
        return q.status == Query.Status.DROP ? null : headerOnly(alloc.ioBuffer(12), q, Rcode.REFUSED);
    }

    private ByteBuf answer(Query q, ByteBuf in, ByteBufAllocator alloc, ByteBuf reuse, EventLoop loop,
                           Reply later)
            throws IOException {
        Random random = ThreadLocalRandom.current();
        long index = reader.catalogIndex();
        Query.CacheKey key = q.key();
        CachedResponse cached = cache.get(index, key);
        if (cached != null) {
            metrics.cacheHits.increment();
            return respond(alloc, reuse, cached.pick(random), q, in, cached.rcode());
        }
        metrics.cacheMisses.increment();
        Name qname = new Name(q.qnameLower);
        Computed computed = reader.read(view -> {
            long at = view.catalogIndex();
            return new Computed(at, zone.answer(qname, q.qtype, q.qclass, view, at));
        });
        Answer answer = computed.answer();
        boolean cacheable = true;
        if (answer.kind() == Answer.Kind.OUTSIDE) {
            if (recursors != null && q.rd()) {
                forward(q.copy(), in, loop, later.keep());
                return null;
            }
            cacheable = recursors == null;
            answer = Answer.REFUSED;
        }
        Record question = Record.newRecord(qname, q.qtype, q.qclass);
        CachedResponse rendered = CachedResponse.render(question, answer, recursionAvailable, q.edns, q.dnssecOk,
                q.limit(), random);
        if (cacheable) {
            cache.put(computed.index(), key.copy(), rendered);
        }
        return respond(alloc, reuse, rendered.pick(random), q, in, answer.rcode());
    }

    private void forward(Query q, ByteBuf in, EventLoop loop, Reply later) throws IOException {
        byte[] asked = new byte[q.qnameLength];
        in.getBytes(in.readerIndex() + 12, asked);
        Record question = Record.newRecord(new Name(asked), q.qtype, q.qclass);
        long start = System.nanoTime();
        recursors.resolve(loop, question, (q.flags & Query.FLAG_CD) != 0, q.dnssecOk, response -> {
            metrics.forwarded(response != null, System.nanoTime() - start);
            Answer answer = response == null
                    ? new Answer(Answer.Kind.LOCAL, Rcode.SERVFAIL, false, List.of(), false, List.of(), List.of())
                    : fromUpstream(response);
            try {
                byte[] wire = WireRenderer.render(question, answer, answer.items(), true, q.edns, q.dnssecOk,
                        q.limit());
                later.send(respond(ByteBufAllocator.DEFAULT, null, wire, q, null, answer.rcode()));
            } catch (RuntimeException e) {
                // Never leave the client waiting: answer SERVFAIL, and log what went wrong.
                metrics.errors.increment();
                log.warn("rendering a forwarded answer for {} failed (answered SERVFAIL)", question.getName(), e);
                later.send(headerOnly(ByteBufAllocator.DEFAULT.ioBuffer(12), q, Rcode.SERVFAIL));
            }
        });
    }

    private static Answer fromUpstream(Message r) {
        List<Answer.Item> items = new ArrayList<>();
        for (Record rec : r.getSection(Section.ANSWER)) {
            items.add(new Answer.Item(rec));
        }
        List<Record> additional = new ArrayList<>();
        for (Record rec : r.getSection(Section.ADDITIONAL)) {
            if (rec.getType() != Type.OPT && rec.getType() != Type.TSIG && rec.getType() != Type.SIG) {
                additional.add(rec);
            }
        }
        return new Answer(Answer.Kind.LOCAL, r.getRcode(), false, items, false, r.getSection(Section.AUTHORITY),
                additional);
    }

    /**
     * Copies rendered bytes and patches the query's ID, RD and CD bits and (when {@code in} is given) the
     * question name as the client spelled it, which also spells every compressed owner name that points to it.
     */
    private ByteBuf respond(ByteBufAllocator alloc, ByteBuf reuse, byte[] wire, Query q, ByteBuf in, int rcode) {
        ByteBuf out = buffer(alloc, reuse, wire.length);
        out.writeBytes(wire);
        out.setShort(0, q.id);
        out.setByte(2, (wire[2] & ~0x01) | ((q.flags >> 8) & 0x01));
        out.setByte(3, (wire[3] & ~Query.FLAG_CD) | (q.flags & Query.FLAG_CD));
        if (in != null) {
            out.setBytes(12, in, in.readerIndex() + 12, q.qnameLength);
        }
        metrics.query(q.qtype, rcode);
        if (WireRenderer.truncated(wire)) {
            metrics.truncated.increment();
        }
        return out;
    }

    /**
     * A response without any section (ID, opcode and RD copied), for queries we cannot or will not parse,
     * written into {@code out}.
     */
    private ByteBuf headerOnly(ByteBuf out, Query q, int rcode) {
        int flags = Query.FLAG_QR | (q.opcode << 11) | (q.flags & Query.FLAG_RD) | (rcode & 0xF);
        if (recursionAvailable) {
            flags |= 0x0080;
        }
        out.writeShort(q.id).writeShort(flags).writeZero(8);
        metrics.query(q.qtype, rcode);
        return out;
    }

    private ByteBuf badVersion(ByteBufAllocator alloc, ByteBuf reuse, Query q, ByteBuf in) throws IOException {
        Record question = Record.newRecord(new Name(q.qnameLower), q.qtype, q.qclass);
        Answer answer = new Answer(Answer.Kind.LOCAL, Rcode.BADVERS, false, List.of(), false, List.of(), List.of());
        byte[] wire = WireRenderer.render(question, answer, List.of(), recursionAvailable, true, q.dnssecOk,
                q.limit());
        return respond(alloc, reuse, wire, q, in, Rcode.BADVERS);
    }
}
