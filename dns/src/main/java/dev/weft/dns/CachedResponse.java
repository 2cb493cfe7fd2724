package dev.weft.dns;

import org.xbill.DNS.Record;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * One answer rendered for one (question, size limit, EDNS mode). Shuffled answers of up to
 * {@link #MAX_VARIANTS} records are pre-rendered once per record, each variant with that record first and
 * the others in random order, so that picking a variant at random per query spreads the first position
 * evenly; larger answers keep their records and are shuffled and rendered per query.
 */
final class CachedResponse {
    static final int MAX_VARIANTS = 16;

    /** Rough heap cost of an answer kept for rendering per query: its records, names and lists. */
    static final int BYTES_PER_KEPT_RECORD = 256;

    private final int rcode;
    // Kept only when the answer is rendered per query (more than MAX_VARIANTS records); null otherwise, so that a
    // cached entry costs little more than its wire bytes.
    private final Record question;
    private final Answer answer;
    private final boolean recursionAvailable;
    private final boolean edns;
    private final boolean dnssecOk;
    private final int limit;
    private final byte[][] variants;
    private final int bytes;

    private CachedResponse(Record question, Answer answer, boolean recursionAvailable, boolean edns,
                           boolean dnssecOk, int limit, byte[][] variants) {
        this.rcode = answer.rcode();
        this.question = variants == null ? question : null;
        this.answer = variants == null ? answer : null;
        this.recursionAvailable = recursionAvailable;
        this.edns = edns;
        this.dnssecOk = dnssecOk;
        this.limit = limit;
        this.variants = variants;
        int b = 48;
        if (variants != null) {
            b += 16 + 4 * variants.length;
            for (byte[] v : variants) {
                b += 16 + v.length;
            }
        } else {
            b += BYTES_PER_KEPT_RECORD * (2 + answer.items().size());
        }
        this.bytes = b;
    }

    static CachedResponse render(Record question, Answer answer, boolean recursionAvailable, boolean edns,
                                 boolean dnssecOk, int limit, Random random) {
        List<Answer.Item> items = answer.items();
        byte[][] variants;
        if (!answer.shuffle() || items.size() <= 1) {
            variants = new byte[][] {
                WireRenderer.render(question, answer, items, recursionAvailable, edns, dnssecOk, limit)};
        } else if (items.size() <= MAX_VARIANTS) {
            variants = new byte[items.size()][];
            for (int i = 0; i < items.size(); i++) {
                List<Answer.Item> order = new ArrayList<>(items);
                Answer.Item first = order.remove(i);
                Collections.shuffle(order, random);
                order.add(0, first);
                variants[i] = WireRenderer.render(question, answer, order, recursionAvailable, edns, dnssecOk,
                        limit);
            }
        } else {
            variants = null;
        }
        return new CachedResponse(question, answer, recursionAvailable, edns, dnssecOk, limit, variants);
    }

    int rcode() {
        return rcode;
    }

    /** Approximate heap bytes this entry holds (wire bytes plus object overhead), for the cache's byte bound. */
    int bytes() {
        return bytes;
    }

    /** Wire bytes for one query (ID 0, RD/CD clear); callers copy before patching. */
    byte[] pick(Random random) {
        if (variants != null) {
            return variants.length == 1 ? variants[0] : variants[random.nextInt(variants.length)];
        }
        List<Answer.Item> order = new ArrayList<>(answer.items());
        Collections.shuffle(order, random);
        return WireRenderer.render(question, answer, order, recursionAvailable, edns, dnssecOk, limit);
    }
}
