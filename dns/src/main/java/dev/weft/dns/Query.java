package dev.weft.dns;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

import java.util.Arrays;

/**
 * One decoded query, read straight from the packet without building dnsjava objects: header, the single
 * question (its name lower-cased for the cache key) and the EDNS OPT record if any. Every other record is
 * skipped with bounds checks; anything inconsistent yields {@link Status#FORMERR}.
 *
 * <p>To keep the hot path free of allocations, {@link #decode} reuses one instance per thread (an event loop
 * handles one packet at a time): it is valid until the next decode on the same thread. Anything that outlives
 * the call (forwarding, cache entries) takes a {@link #copy()} or {@link CacheKey#copy()}.
 */
final class Query {
    /** Netty's thread local: an array index on event loops and the blocking UDP threads (FastThreadLocalThreads). */
    private static final FastThreadLocal<Query> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected Query initialValue() {
            return new Query();
        }
    };

    enum Status {
        OK,
        /** Not answered at all: too short for a header, or a response (QR set). */
        DROP,
        FORMERR,
        NOTIMP,
        BADVERS
    }

    static final int FLAG_QR = 0x8000;
    static final int FLAG_RD = 0x0100;
    static final int FLAG_CD = 0x0010;
    static final int OPT = 41;
    static final int MAX_NAME = DnsLimits.MAX_NAME;

    Status status;
    int id;
    int flags;
    int opcode;
    boolean tcp;
    /** Offset of the question name from the start of the packet (always 12) and its wire length. */
    int qnameLength;
    /** The lower-cased question name in wire form; only the first {@link #qnameLength} bytes count. */
    byte[] qnameLower = new byte[MAX_NAME + 1];
    int qtype;
    int qclass;
    boolean edns;
    int udpPayload;
    boolean dnssecOk;

    private Query() {
    }

    boolean rd() {
        return (flags & FLAG_RD) != 0;
    }

    /** The largest response for this query's transport and EDNS payload size. */
    int limit() {
        if (tcp) {
            return DnsLimits.TCP_LIMIT;
        }
        if (!edns) {
            return DnsLimits.PLAIN_UDP_LIMIT;
        }
        return Math.max(DnsLimits.PLAIN_UDP_LIMIT, Math.min(udpPayload, DnsLimits.EDNS_PAYLOAD));
    }

    /** This query's cache key, for lookups only (reused per thread: {@link CacheKey#copy()} to keep it). */
    CacheKey key() {
        return probe.set(qnameLower, qnameLength, qtype, qclass, limit(), edns ? (dnssecOk ? 2 : 1) : 0);
    }

    private final CacheKey probe = new CacheKey();

    /** A copy that owns its data, for work that outlives this packet (forwarding). */
    Query copy() {
        Query q = new Query();
        q.status = status;
        q.id = id;
        q.flags = flags;
        q.opcode = opcode;
        q.tcp = tcp;
        q.qnameLength = qnameLength;
        q.qnameLower = Arrays.copyOf(qnameLower, qnameLength);
        q.qtype = qtype;
        q.qclass = qclass;
        q.edns = edns;
        q.udpPayload = udpPayload;
        q.dnssecOk = dnssecOk;
        return q;
    }

    static Query decode(ByteBuf b, boolean tcp) {
        Query q = SCRATCH.get();
        q.status = null;
        q.id = 0;
        q.flags = 0;
        q.opcode = 0;
        q.qnameLength = 0;
        q.qtype = 0;
        q.qclass = 0;
        q.edns = false;
        q.udpPayload = 0;
        q.dnssecOk = false;
        q.tcp = tcp;
        int base = b.readerIndex();
        int end = base + b.readableBytes();
        if (end - base < 12) {
            q.status = Status.DROP;
            return q;
        }
        q.id = b.getUnsignedShort(base);
        q.flags = b.getUnsignedShort(base + 2);
        q.opcode = (q.flags >> 11) & 0xF;
        if ((q.flags & FLAG_QR) != 0) {
            q.status = Status.DROP;
            return q;
        }
        if (q.opcode != 0) {
            q.status = Status.NOTIMP;
            return q;
        }
        int qd = b.getUnsignedShort(base + 4);
        int an = b.getUnsignedShort(base + 6);
        int ns = b.getUnsignedShort(base + 8);
        int ar = b.getUnsignedShort(base + 10);
        if (qd != 1) {
            q.status = Status.FORMERR;
            return q;
        }
        int p = base + 12;
        int nameLength = 0;
        while (true) {
            if (p >= end) {
                return formerr(q);
            }
            int l = b.getUnsignedByte(p);
            if (l == 0) {
                p++;
                nameLength++;
                break;
            }
            if (l > 63) {
                return formerr(q);
            }
            nameLength += l + 1;
            if (nameLength + 1 > MAX_NAME || p + 1 + l > end) {
                return formerr(q);
            }
            p += 1 + l;
        }
        if (p + 4 > end) {
            return formerr(q);
        }
        q.qnameLength = nameLength;
        byte[] name = q.qnameLower;
        b.getBytes(base + 12, name, 0, nameLength);
        // Label length bytes are at most 63, below 'A', so lower-casing every byte only touches letters.
        for (int i = 0; i < nameLength; i++) {
            byte c = name[i];
            if (c >= 'A' && c <= 'Z') {
                name[i] = (byte) (c + 32);
            }
        }
        q.qtype = b.getUnsignedShort(p);
        q.qclass = b.getUnsignedShort(p + 2);
        p += 4;
        int records = an + ns + ar;
        q.status = Status.OK;
        for (int i = 0; i < records; i++) {
            int nameStart = p;
            p = skipName(b, p, end);
            if (p < 0 || p + 10 > end) {
                return formerr(q);
            }
            int type = b.getUnsignedShort(p);
            int rdlength = b.getUnsignedShort(p + 8);
            if (p + 10 + rdlength > end) {
                return formerr(q);
            }
            if (type == OPT) {
                boolean rootOwner = p - nameStart == 1;
                if (i < an + ns || q.edns || !rootOwner) {
                    return formerr(q);
                }
                q.edns = true;
                q.udpPayload = b.getUnsignedShort(p + 2);
                int version = b.getUnsignedByte(p + 5);
                q.dnssecOk = (b.getUnsignedShort(p + 6) & 0x8000) != 0;
                if (version != 0) {
                    q.status = Status.BADVERS;
                }
            }
            p += 10 + rdlength;
        }
        return q;
    }

    private static Query formerr(Query q) {
        q.status = Status.FORMERR;
        return q;
    }

    /** The offset after a (possibly compressed) name, or -1 when it runs past the end or is malformed. */
    private static int skipName(ByteBuf b, int p, int end) {
        int length = 0;
        while (p < end) {
            int l = b.getUnsignedByte(p);
            if (l == 0) {
                return p + 1;
            }
            if ((l & 0xC0) == 0xC0) {
                return p + 2 <= end ? p + 2 : -1;
            }
            if (l > 63) {
                return -1;
            }
            length += l + 1;
            if (length + 1 > MAX_NAME) {
                return -1;
            }
            p += 1 + l;
        }
        return -1;
    }

    /**
     * Cache key: lower-cased name, type, class, size limit and EDNS mode (0 none, 1 EDNS, 2 EDNS with DO). A
     * query's key is a reusable probe for lookups; {@link #copy()} makes the immutable key a cache entry keeps.
     */
    static final class CacheKey {
        private byte[] name;
        private int length;
        private int qtype;
        private int qclass;
        private int limit;
        private int ednsMode;
        private int hash;

        CacheKey() {
        }

        CacheKey set(byte[] name, int length, int qtype, int qclass, int limit, int ednsMode) {
            this.name = name;
            this.length = length;
            this.qtype = qtype;
            this.qclass = qclass;
            this.limit = limit;
            this.ednsMode = ednsMode;
            int h = 1;
            for (int i = 0; i < length; i++) {
                h = 31 * h + name[i];
            }
            h = 31 * h + qtype;
            h = 31 * h + qclass;
            h = 31 * h + limit;
            this.hash = 31 * h + ednsMode;
            return this;
        }

        /** Approximate heap bytes of a {@link #copy()}: the object and its name array. */
        int bytes() {
            return 40 + 16 + length;
        }

        /** An immutable copy that owns its name bytes (to store in the cache). */
        CacheKey copy() {
            CacheKey k = new CacheKey();
            k.name = Arrays.copyOf(name, length);
            k.length = length;
            k.qtype = qtype;
            k.qclass = qclass;
            k.limit = limit;
            k.ednsMode = ednsMode;
            k.hash = hash;
            return k;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (!(o instanceof CacheKey k)) {
                return false;
            }
            return hash == k.hash && qtype == k.qtype && qclass == k.qclass && limit == k.limit
                    && ednsMode == k.ednsMode && length == k.length
                    && Arrays.equals(name, 0, length, k.name, 0, k.length);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
