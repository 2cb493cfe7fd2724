package dev.weft.dns;

import org.xbill.DNS.Address;
import org.xbill.DNS.Name;
import org.xbill.DNS.TextParseException;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of the DNS server, immutable; every default lives here. Build one with {@link #builder()} (or
 * {@link #toBuilder()} of {@link #defaults()}).
 *
 * <table>
 * <caption>settings</caption>
 * <tr><th>setting</th><th>default</th><th>agent flag</th></tr>
 * <tr><td>bindAddress, port</td><td>127.0.0.1, 8600</td><td>-dns-addr, -dns-port</td></tr>
 * <tr><td>domain, altDomain</td><td>weft., none</td><td>-domain, -alt-domain</td></tr>
 * <tr><td>datacenter</td><td>dc1</td><td>-datacenter</td></tr>
 * <tr><td>recursors, recursorTimeout</td><td>none, 2 s</td><td>-recursor</td></tr>
 * <tr><td>onlyPassing</td><td>false</td><td>-dns-only-passing</td></tr>
 * <tr><td>nodeTtl, serviceTtl</td><td>0, {} (0 for all)</td><td></td></tr>
 * <tr><td>soaMinTtl</td><td>0</td><td></td></tr>
 * <tr><td>rateLimit (answers/s per client address)</td><td>0 = off</td><td>-dns-rate-limit</td></tr>
 * <tr><td>cacheEntries, cacheBytes</td><td>65,536, an eighth of the JVM's maximum heap (1–64 MiB)</td><td></td></tr>
 * </table>
 */
public final class DnsConfig {
    public static final int DEFAULT_PORT = 8600;
    public static final int DEFAULT_UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;
    public static final int DEFAULT_CACHE_ENTRIES = 65_536;
    /** Upper end of the default byte bound of the answer cache. */
    public static final long MAX_DEFAULT_CACHE_BYTES = 64L << 20;

    private final InetAddress bindAddress;
    private final int port;
    private final String domain;
    private final String altDomain;
    private final String datacenter;
    private final InetAddress advertiseAddress;
    private final List<InetSocketAddress> recursors;
    private final Duration recursorTimeout;
    private final boolean onlyPassing;
    private final Duration nodeTtl;
    private final Map<String, Duration> serviceTtl;
    private final Duration soaMinTtl;
    private final int udpReceiveBuffer;
    private final int ioThreads;
    private final boolean nativeTransport;
    private final boolean blockingUdp;
    private final int cacheEntries;
    private final long cacheBytes;
    private final double rateLimit;

    private DnsConfig(Builder b) {
        this.bindAddress = Objects.requireNonNull(b.bindAddress, "bindAddress");
        if (b.port < 0 || b.port > 65535) {
            throw new IllegalArgumentException("invalid DNS port " + b.port);
        }
        this.port = b.port;
        this.domain = normalizeDomain(b.domain);
        this.altDomain = b.altDomain == null || b.altDomain.isBlank() ? null : normalizeDomain(b.altDomain);
        if (domain.equals(altDomain)) {
            throw new IllegalArgumentException("alt-domain equals domain " + domain);
        }
        if (b.datacenter == null || b.datacenter.isBlank() || b.datacenter.contains(".")) {
            throw new IllegalArgumentException("invalid datacenter '" + b.datacenter + "'");
        }
        this.datacenter = b.datacenter.toLowerCase(Locale.ROOT);
        this.advertiseAddress = b.advertiseAddress;
        this.recursors = List.copyOf(b.recursors);
        this.recursorTimeout = positive(b.recursorTimeout, "recursorTimeout");
        this.onlyPassing = b.onlyPassing;
        this.nodeTtl = notNegative(b.nodeTtl, "nodeTtl");
        Map<String, Duration> ttl = new LinkedHashMap<>();
        b.serviceTtl.forEach((k, v) -> ttl.put(k.toLowerCase(Locale.ROOT), notNegative(v, "serviceTtl " + k)));
        this.serviceTtl = Collections.unmodifiableMap(ttl);
        this.soaMinTtl = notNegative(b.soaMinTtl, "soaMinTtl");
        if (b.udpReceiveBuffer < 0) {
            throw new IllegalArgumentException("negative udpReceiveBuffer");
        }
        this.udpReceiveBuffer = b.udpReceiveBuffer;
        if (b.ioThreads < 0) {
            throw new IllegalArgumentException("negative ioThreads");
        }
        this.ioThreads = b.ioThreads;
        this.nativeTransport = b.nativeTransport;
        this.blockingUdp = b.blockingUdp;
        if (b.cacheEntries < 0) {
            throw new IllegalArgumentException("negative cacheEntries");
        }
        this.cacheEntries = b.cacheEntries;
        if (b.cacheBytes < 0) {
            throw new IllegalArgumentException("negative cacheBytes");
        }
        this.cacheBytes = b.cacheBytes;
        if (!(b.rateLimit >= 0) || Double.isInfinite(b.rateLimit)) {
            throw new IllegalArgumentException("the DNS rate limit must be a number of queries per second >= 0, got "
                    + b.rateLimit);
        }
        this.rateLimit = b.rateLimit;
    }

    public static DnsConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.bindAddress = bindAddress;
        b.port = port;
        b.domain = domain;
        b.altDomain = altDomain;
        b.datacenter = datacenter;
        b.advertiseAddress = advertiseAddress;
        b.recursors = new ArrayList<>(recursors);
        b.recursorTimeout = recursorTimeout;
        b.onlyPassing = onlyPassing;
        b.nodeTtl = nodeTtl;
        b.serviceTtl = new LinkedHashMap<>(serviceTtl);
        b.soaMinTtl = soaMinTtl;
        b.udpReceiveBuffer = udpReceiveBuffer;
        b.ioThreads = ioThreads;
        b.nativeTransport = nativeTransport;
        b.blockingUdp = blockingUdp;
        b.cacheEntries = cacheEntries;
        b.cacheBytes = cacheBytes;
        b.rateLimit = rateLimit;
        return b;
    }

    /** Address the main UDP and TCP listeners bind to. */
    public InetAddress bindAddress() {
        return bindAddress;
    }

    /** Port of the main listeners; 0 picks one free port for both UDP and TCP. */
    public int port() {
        return port;
    }

    /** The authoritative domain, lower case with a trailing dot ({@code weft.}). */
    public String domain() {
        return domain;
    }

    /** A second authoritative domain answered like {@link #domain()} (e.g. {@code consul.}), or null. */
    public String altDomain() {
        return altDomain;
    }

    /** This agent's datacenter, lower case; other datacenter labels answer NXDOMAIN. */
    public String datacenter() {
        return datacenter;
    }

    /**
     * Address answered for {@code ns.<domain>}: the configured one, else the bind address, else (bind on a
     * wildcard) 127.0.0.1.
     */
    public InetAddress advertiseAddress() {
        if (advertiseAddress != null) {
            return advertiseAddress;
        }
        if (bindAddress.isAnyLocalAddress()) {
            return InetAddress.getLoopbackAddress();
        }
        return bindAddress;
    }

    /** Upstream resolvers for names outside our domains; empty means such names are REFUSED. */
    public List<InetSocketAddress> recursors() {
        return recursors;
    }

    /** Time allowed to each upstream (UDP and its TCP retry each) before the next one is tried. */
    public Duration recursorTimeout() {
        return recursorTimeout;
    }

    /** Drop instances in warning as well as critical ones. */
    public boolean onlyPassing() {
        return onlyPassing;
    }

    public Duration nodeTtl() {
        return nodeTtl;
    }

    /** Service TTLs as configured: exact names (lower case), prefixes ending in {@code *}, {@code *} for all. */
    public Map<String, Duration> serviceTtl() {
        return serviceTtl;
    }

    /**
     * The TTL of a service's records, as Consul's {@code service_ttl}: the exact name, else the longest
     * matching {@code prefix*}, else {@code *}, else 0.
     */
    public Duration serviceTtl(String service) {
        String s = service.toLowerCase(Locale.ROOT);
        Duration exact = serviceTtl.get(s);
        if (exact != null) {
            return exact;
        }
        Duration best = null;
        int bestLength = -1;
        for (Map.Entry<String, Duration> e : serviceTtl.entrySet()) {
            String k = e.getKey();
            if (k.endsWith("*")) {
                String prefix = k.substring(0, k.length() - 1);
                if (s.startsWith(prefix) && prefix.length() > bestLength) {
                    best = e.getValue();
                    bestLength = prefix.length();
                }
            }
        }
        return best == null ? Duration.ZERO : best;
    }

    /** SOA minimum and the TTL of the SOA record: how long resolvers may cache NXDOMAIN and NODATA. */
    public Duration soaMinTtl() {
        return soaMinTtl;
    }

    /** SO_RCVBUF asked for each UDP socket (the kernel caps it at net.core.rmem_max). */
    public int udpReceiveBuffer() {
        return udpReceiveBuffer;
    }

    /** Event-loop threads (one UDP socket each with epoll); 0 = one per CPU. */
    public int ioThreads() {
        return ioThreads;
    }

    /** Use Linux epoll (with SO_REUSEPORT) when available; false forces the NIO transport. */
    public boolean nativeTransport() {
        return nativeTransport;
    }

    /**
     * Serve UDP from plain JDK sockets, one blocking thread per socket ({@link #ioThreads()} of them, sharing the
     * port with SO_REUSEPORT), instead of Netty's event loops; TCP stays on the event loops. Far less code runs
     * per query, which matters when that code is not compiled by C2: a client agent's JVM runs C1 only, and there
     * this path costs about half of Netty's per query (docs/PERFORMANCE.md). Off by default.
     */
    public boolean blockingUdp() {
        return blockingUdp;
    }

    /** Maximum cached answers; the cache is cleared when it would grow beyond. 0 disables caching. */
    public int cacheEntries() {
        return cacheEntries;
    }

    /**
     * Maximum approximate heap bytes of the cached answers; the cache is cleared when it would grow beyond. 0
     * disables caching. The default, {@link #defaultCacheBytes()}, keeps the cache to a fraction of the heap, so that
     * queries for many distinct names cannot exhaust a client agent's small heap.
     */
    public long cacheBytes() {
        return cacheBytes;
    }

    /** An eighth of this JVM's maximum heap, at least 1 MiB and at most {@link #MAX_DEFAULT_CACHE_BYTES}. */
    public static long defaultCacheBytes() {
        return Math.max(1L << 20, Math.min(MAX_DEFAULT_CACHE_BYTES, Runtime.getRuntime().maxMemory() / 8));
    }

    /**
     * Answers per second to one client IP address (token bucket, bursts of one second's worth); 0 = no limit.
     * Over the limit a UDP query is dropped (no reflected traffic at all) and a TCP query answered REFUSED.
     */
    public double rateLimit() {
        return rateLimit;
    }

    /**
     * Parses an upstream resolver: {@code 1.2.3.4}, {@code 1.2.3.4:5353}, {@code ::1}, {@code [::1]} or
     * {@code [::1]:53}; the port defaults to 53. Only IP literals (no host name lookups).
     */
    public static InetSocketAddress parseRecursor(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty recursor address");
        }
        String s = spec.trim();
        String host;
        int port = 53;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("invalid recursor address '" + spec + "'");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("invalid recursor address '" + spec + "'");
                }
                port = parsePort(rest.substring(1), spec);
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            port = parsePort(s.substring(s.indexOf(':') + 1), spec);
        } else {
            host = s;
        }
        InetAddress ip = parseIp(host);
        if (ip == null) {
            throw new IllegalArgumentException("recursor '" + spec + "' is not an IP address[:port]");
        }
        return new InetSocketAddress(ip, port);
    }

    /** An IPv4 or IPv6 literal, without any name lookup; null when {@code s} is not one. */
    static InetAddress parseIp(String s) {
        if (s == null || s.isEmpty()) {
            return null;
        }
        byte[] bytes = Address.toByteArray(s, Address.IPv4);
        if (bytes == null && s.indexOf(':') >= 0) {
            bytes = Address.toByteArray(s, Address.IPv6);
        }
        if (bytes == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static int parsePort(String s, String spec) {
        try {
            int p = Integer.parseInt(s);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid port in recursor address '" + spec + "'");
        }
    }

    private static String normalizeDomain(String d) {
        if (d == null || d.isBlank()) {
            throw new IllegalArgumentException("empty domain");
        }
        String s = d.trim().toLowerCase(Locale.ROOT);
        while (s.startsWith(".")) {
            s = s.substring(1);
        }
        if (!s.endsWith(".")) {
            s = s + ".";
        }
        if (s.equals(".")) {
            throw new IllegalArgumentException("the root is not a valid domain");
        }
        try {
            Name.fromString(s);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("invalid domain '" + d + "': " + e.getMessage());
        }
        return s;
    }

    private static Duration positive(Duration d, String what) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(what + " must be positive");
        }
        return d;
    }

    private static Duration notNegative(Duration d, String what) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative");
        }
        return d;
    }

    @Override
    public String toString() {
        return "DnsConfig{bind=" + bindAddress.getHostAddress() + ":" + port + ", domain=" + domain
                + (altDomain == null ? "" : ", altDomain=" + altDomain) + ", datacenter=" + datacenter
                + ", recursors=" + recursors + ", onlyPassing=" + onlyPassing + "}";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private InetAddress bindAddress = InetAddress.getLoopbackAddress();
        private int port = DEFAULT_PORT;
        private String domain = "weft.";
        private String altDomain;
        private String datacenter = "dc1";
        private InetAddress advertiseAddress;
        private List<InetSocketAddress> recursors = new ArrayList<>();
        private Duration recursorTimeout = Duration.ofSeconds(2);
        private boolean onlyPassing;
        private Duration nodeTtl = Duration.ZERO;
        private Map<String, Duration> serviceTtl = new LinkedHashMap<>();
        private Duration soaMinTtl = Duration.ZERO;
        private int udpReceiveBuffer = DEFAULT_UDP_RECEIVE_BUFFER;
        private int ioThreads;
        private boolean nativeTransport = true;
        private boolean blockingUdp;
        private int cacheEntries = DEFAULT_CACHE_ENTRIES;
        private long cacheBytes = defaultCacheBytes();
        private double rateLimit;

        private Builder() {
        }

        public Builder bindAddress(InetAddress address) {
            this.bindAddress = address;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder domain(String domain) {
            this.domain = domain;
            return this;
        }

        public Builder altDomain(String altDomain) {
            this.altDomain = altDomain;
            return this;
        }

        public Builder datacenter(String datacenter) {
            this.datacenter = datacenter;
            return this;
        }

        public Builder advertiseAddress(InetAddress address) {
            this.advertiseAddress = address;
            return this;
        }

        public Builder recursors(List<InetSocketAddress> recursors) {
            this.recursors = new ArrayList<>(recursors);
            return this;
        }

        public Builder addRecursor(InetSocketAddress recursor) {
            this.recursors.add(Objects.requireNonNull(recursor));
            return this;
        }

        public Builder recursorTimeout(Duration timeout) {
            this.recursorTimeout = timeout;
            return this;
        }

        public Builder onlyPassing(boolean onlyPassing) {
            this.onlyPassing = onlyPassing;
            return this;
        }

        public Builder nodeTtl(Duration ttl) {
            this.nodeTtl = ttl;
            return this;
        }

        /** Replaces the service TTL map (keys: service name, {@code prefix*} or {@code *}). */
        public Builder serviceTtl(Map<String, Duration> ttl) {
            this.serviceTtl = new LinkedHashMap<>(ttl);
            return this;
        }

        public Builder serviceTtl(String service, Duration ttl) {
            this.serviceTtl.put(Objects.requireNonNull(service), ttl);
            return this;
        }

        public Builder soaMinTtl(Duration ttl) {
            this.soaMinTtl = ttl;
            return this;
        }

        public Builder udpReceiveBuffer(int bytes) {
            this.udpReceiveBuffer = bytes;
            return this;
        }

        public Builder ioThreads(int threads) {
            this.ioThreads = threads;
            return this;
        }

        public Builder nativeTransport(boolean enabled) {
            this.nativeTransport = enabled;
            return this;
        }

        /** See {@link DnsConfig#blockingUdp()}. */
        public Builder blockingUdp(boolean enabled) {
            this.blockingUdp = enabled;
            return this;
        }

        /** Answers per second per client IP address; 0 (the default) = no limit. */
        public Builder rateLimit(double perSecond) {
            this.rateLimit = perSecond;
            return this;
        }

        public Builder cacheEntries(int entries) {
            this.cacheEntries = entries;
            return this;
        }

        /** Byte bound of the answer cache (approximate heap bytes); 0 disables caching. */
        public Builder cacheBytes(long bytes) {
            this.cacheBytes = bytes;
            return this;
        }

        public DnsConfig build() {
            return new DnsConfig(this);
        }
    }
}
