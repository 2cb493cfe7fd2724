package dev.weft.dns;

import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Renders an {@link Answer} (in a given item order) to wire bytes that fit a size limit. When everything does
 * not fit, additional records are dropped first (without TC, RFC 2181 9); when answer records do not fit, as
 * many as fit are kept and TC is set so that the client retries over TCP, where everything fits. The message
 * ID is 0 and RD/CD are clear: the caller patches them (and the question's case) per query.
 */
final class WireRenderer {
    private WireRenderer() {
    }

    /**
     * @param edns     whether to add an OPT record (the query had one)
     * @param dnssecOk the DO bit echoed in our OPT record
     */
    static byte[] render(Record question, Answer answer, List<Answer.Item> order, boolean recursionAvailable,
                         boolean edns, boolean dnssecOk, int limit) {
        List<Record> additional = additional(order, order.size(), answer.additional());
        Layout full = new Layout(question, answer, order, recursionAvailable, edns, dnssecOk);
        byte[] wire = full.build(order.size(), true, additional, additional.size(), false);
        if (wire.length <= limit) {
            return wire;
        }
        byte[] bare = full.build(order.size(), true, additional, 0, false);
        if (bare.length <= limit) {
            // Everything required fits: keep as many additional records as fit, no TC.
            int lo = 0;
            int hi = additional.size();
            byte[] best = bare;
            while (lo < hi) {
                int mid = (lo + hi + 1) >>> 1;
                byte[] w = full.build(order.size(), true, additional, mid, false);
                if (w.length <= limit) {
                    lo = mid;
                    best = w;
                } else {
                    hi = mid - 1;
                }
            }
            return best;
        }
        byte[] answersOnly = full.build(order.size(), false, additional, 0, false);
        if (answersOnly.length <= limit) {
            // The authority section of a positive (forwarded) answer is optional.
            return answersOnly;
        }
        // Answers do not all fit: as many answers as fit, nothing else, TC.
        int lo = 0;
        int hi = order.size() - 1;
        byte[] best = full.build(0, false, List.of(), 0, true);
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            byte[] w = full.build(mid, false, List.of(), 0, true);
            if (w.length <= limit) {
                lo = mid;
                best = w;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    /** The items' own additional records (first {@code n} items, without duplicates), then the answer's. */
    private static List<Record> additional(List<Answer.Item> order, int n, List<Record> more) {
        Set<Record> out = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            out.addAll(order.get(i).extras());
        }
        out.addAll(more);
        return new ArrayList<>(out);
    }

    /** True when the TC flag is set in rendered bytes. */
    static boolean truncated(byte[] wire) {
        return (wire[2] & 0x02) != 0;
    }

    private record Layout(Record question, Answer answer, List<Answer.Item> order, boolean ra, boolean edns,
                          boolean dnssecOk) {
        byte[] build(int answers, boolean authority, List<Record> additional, int nAdditional, boolean tc) {
            Message m = new Message(0);
            m.getHeader().setFlag(Flags.QR);
            if (answer.authoritative()) {
                m.getHeader().setFlag(Flags.AA);
            }
            if (ra) {
                m.getHeader().setFlag(Flags.RA);
            }
            if (tc) {
                m.getHeader().setFlag(Flags.TC);
            }
            m.getHeader().setRcode(answer.rcode() & 0xF);
            m.addRecord(question, Section.QUESTION);
            for (int i = 0; i < answers; i++) {
                m.addRecord(order.get(i).record(), Section.ANSWER);
            }
            if (authority) {
                for (Record r : answer.authority()) {
                    m.addRecord(r, Section.AUTHORITY);
                }
            }
            for (int i = 0; i < nAdditional; i++) {
                m.addRecord(additional.get(i), Section.ADDITIONAL);
            }
            if (edns) {
                m.addRecord(new OPTRecord(DnsLimits.EDNS_PAYLOAD, answer.rcode() >>> 4, 0,
                        dnssecOk ? ExtendedFlags.DO : 0), Section.ADDITIONAL);
            }
            return m.toWire();
        }
    }
}
