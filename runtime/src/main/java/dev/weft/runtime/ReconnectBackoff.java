package dev.weft.runtime;

/** Capped exponential backoff: first, 2×first, … up to max; {@link #reset()} after a healthy connection. */
final class ReconnectBackoff {
    private final long firstMillis;
    private final long maxMillis;
    private long nextMillis;

    ReconnectBackoff(long firstMillis, long maxMillis) {
        this.firstMillis = firstMillis;
        this.maxMillis = maxMillis;
        this.nextMillis = firstMillis;
    }

    /** The delay before the next attempt; doubles the one after it. */
    long next() {
        long d = nextMillis;
        nextMillis = Math.min(maxMillis, nextMillis * 2);
        return d;
    }

    void reset() {
        nextMillis = firstMillis;
    }
}
