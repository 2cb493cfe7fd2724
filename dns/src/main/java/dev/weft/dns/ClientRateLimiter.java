package dev.weft.dns;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The per-client answer rate limit: a token bucket per client IP address holding at most one second's worth of
 * answers ({@code max(1, rate)}), refilled continuously at {@code rate} per second. Buckets live in a fixed table
 * of {@link DnsLimits#RATE_LIMIT_BUCKETS} slots indexed by a keyed hash of the address, so memory is fixed
 * (about 1 MiB) whatever the number of (possibly spoofed) source addresses; clients whose addresses collide share
 * a bucket. The hash key is random per server, so a sender cannot choose addresses that collide with a victim.
 * Time is injected. Thread-safe: slots are guarded by striped locks.
 */
final class ClientRateLimiter {
    private static final int STRIPES = 64;

    private final double ratePerNano;
    private final double burst;
    private final LongSupplier nanoClock;
    private final double[] tokens = new double[DnsLimits.RATE_LIMIT_BUCKETS];
    private final long[] last = new long[DnsLimits.RATE_LIMIT_BUCKETS];
    private final boolean[] used = new boolean[DnsLimits.RATE_LIMIT_BUCKETS];
    private final Object[] locks = new Object[STRIPES];
    private final int key;

    /**
     * @param perSecond answers per second per client address (&gt; 0)
     * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime})
     */
    ClientRateLimiter(double perSecond, LongSupplier nanoClock) {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            throw new IllegalArgumentException("the DNS rate limit must be a positive number, got " + perSecond);
        }
        this.ratePerNano = perSecond / 1e9;
        this.burst = Math.max(1, perSecond);
        this.nanoClock = nanoClock;
        this.key = new SecureRandom().nextInt();
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new Object();
        }
        Arrays.fill(tokens, burst);
    }

    /** Takes one token of {@code client}'s bucket; false when it is empty (the answer is not sent). */
    boolean allow(InetAddress client) {
        int slot = slot(client);
        synchronized (locks[slot & (STRIPES - 1)]) {
            long now = nanoClock.getAsLong();
            double t = tokens[slot];
            if (used[slot]) {
                t = Math.min(burst, t + Math.max(0, now - last[slot]) * ratePerNano);
            }
            used[slot] = true;
            last[slot] = now;
            if (t >= 1) {
                tokens[slot] = t - 1;
                return true;
            }
            tokens[slot] = t;
            return false;
        }
    }

    private int slot(InetAddress client) {
        int h = (client.hashCode() ^ key) * 0x9E3779B9;
        h ^= h >>> 16;
        return h & (DnsLimits.RATE_LIMIT_BUCKETS - 1);
    }
}
