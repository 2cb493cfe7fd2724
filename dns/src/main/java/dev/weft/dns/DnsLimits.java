package dev.weft.dns;

/**
 * Every size and count limit of the DNS server in one place (the table in dns/README.md and the root README's
 * "Limits"). Queries over a limit are refused without allocating their size: a UDP datagram is read into a
 * buffer one byte larger than {@link #MAX_QUERY_BYTES} and dropped when it fills it; a TCP frame's length
 * prefix is checked before its bytes are read.
 */
final class DnsLimits {
    /** Largest query accepted, UDP or TCP: larger UDP datagrams are dropped, larger TCP frames close the connection. */
    static final int MAX_QUERY_BYTES = 4096;
    /** The EDNS payload size we advertise, and the most we send over UDP. */
    static final int EDNS_PAYLOAD = 4096;
    /** The most we send over UDP to a query without EDNS, or with an EDNS size below this (RFC 6891 6.2.5). */
    static final int PLAIN_UDP_LIMIT = 512;
    /** The most we send over TCP (the 2-byte length prefix). */
    static final int TCP_LIMIT = 65535;
    /** Longest name on the wire (RFC 1035 2.3.4). */
    static final int MAX_NAME = 255;
    /** Concurrent TCP connections; more are closed at once. */
    static final int MAX_TCP_CONNECTIONS = 1024;
    /** A TCP connection idle this long is closed. */
    static final int TCP_IDLE_SECONDS = 10;
    /** Forwarded queries in flight to the recursors; more are answered SERVFAIL. */
    static final int MAX_FORWARDS_IN_FLIGHT = 4096;
    /** The EDNS payload size we ask recursors for. */
    static final int UPSTREAM_PAYLOAD = 1232;
    /** Token buckets of the per-client answer rate limit (clients whose hashed addresses collide share one). */
    static final int RATE_LIMIT_BUCKETS = 1 << 16;

    private DnsLimits() {
    }
}
