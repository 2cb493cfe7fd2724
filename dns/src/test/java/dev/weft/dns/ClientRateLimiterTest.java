package dev.weft.dns;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The token buckets on an injected clock. */
class ClientRateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void burstOfOneSecondThenTheRate() throws Exception {
        ClientRateLimiter limiter = new ClientRateLimiter(5, now::get);
        InetAddress a = InetAddress.getByName("192.0.2.1");
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.allow(a), "answer " + i + " of the burst");
        }
        assertFalse(limiter.allow(a), "the sixth in the same instant");
        now.addAndGet(199_000_000L);
        assertFalse(limiter.allow(a), "less than one token after 199 ms at 5/s");
        now.addAndGet(2_000_000L);
        assertTrue(limiter.allow(a), "one token after 200 ms");
        assertFalse(limiter.allow(a));
        now.addAndGet(60_000_000_000L);
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.allow(a), "a long pause refills only the burst: " + i);
        }
        assertFalse(limiter.allow(a));
    }

    @Test
    void eachAddressHasItsOwnBucket() throws Exception {
        ClientRateLimiter limiter = new ClientRateLimiter(1, now::get);
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("2001:db8::1");
        assertTrue(limiter.allow(a));
        assertFalse(limiter.allow(a));
        assertTrue(limiter.allow(b), "another client is not limited by the first");
    }

    @Test
    void fractionalRatesAndBadRates() throws Exception {
        ClientRateLimiter limiter = new ClientRateLimiter(0.5, now::get);
        InetAddress a = InetAddress.getByName("192.0.2.7");
        assertTrue(limiter.allow(a), "a burst of at least one");
        assertFalse(limiter.allow(a));
        now.addAndGet(1_500_000_000L);
        assertFalse(limiter.allow(a), "0.75 token after 1.5 s");
        now.addAndGet(600_000_000L);
        assertTrue(limiter.allow(a));
        assertThrows(IllegalArgumentException.class, () -> new ClientRateLimiter(0, now::get));
        assertThrows(IllegalArgumentException.class, () -> new ClientRateLimiter(Double.NaN, now::get));
        assertThrows(IllegalArgumentException.class, () -> new ClientRateLimiter(Double.POSITIVE_INFINITY, now::get));
    }
}
