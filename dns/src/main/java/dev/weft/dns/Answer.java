package dev.weft.dns;

import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;

import java.util.List;

/**
 * The records of one answer, before it is rendered for a given size limit: answer items (each an answer record
 * with the additional records it needs, such as the A record of an SRV target), the authority section and
 * further additional records. Immutable, so it can be cached and rendered in many orders.
 *
 * @param kind          whether it is ours, or belongs to the recursors
 * @param rcode         the response code (4 bits)
 * @param authoritative the AA flag
 * @param items         answer records in order
 * @param shuffle       whether the items may be reordered for each query
 * @param authority     the authority section (the SOA of negative answers)
 * @param additional    additional records beyond the items' own
 */
record Answer(Kind kind, int rcode, boolean authoritative, List<Item> items, boolean shuffle,
              List<Record> authority, List<Record> additional) {

    enum Kind {
        /** Answered from the catalog (or refused): cacheable. */
        LOCAL,
        /** Not our name: forward to the recursors when there are any, else REFUSED. */
        OUTSIDE
    }

    /** One answer record and the additional records that go with it. */
    record Item(Record record, List<Record> extras) {
        Item {
            extras = List.copyOf(extras);
        }

        Item(Record record) {
            this(record, List.of());
        }
    }

    static final Answer OUTSIDE = new Answer(Kind.OUTSIDE, Rcode.REFUSED, false, List.of(), false, List.of(),
            List.of());
    static final Answer REFUSED = new Answer(Kind.LOCAL, Rcode.REFUSED, false, List.of(), false, List.of(),
            List.of());
    static final Answer NOT_IMPLEMENTED = new Answer(Kind.LOCAL, Rcode.NOTIMP, false, List.of(), false,
            List.of(), List.of());

    Answer {
        items = List.copyOf(items);
        authority = List.copyOf(authority);
        additional = List.copyOf(additional);
    }

    static Answer positive(List<Item> items, boolean shuffle, List<Record> additional) {
        return new Answer(Kind.LOCAL, Rcode.NOERROR, true, items, shuffle, List.of(), additional);
    }

    static Answer negative(int rcode, Record soa) {
        return new Answer(Kind.LOCAL, rcode, true, List.of(), false, List.of(soa), List.of());
    }
}
