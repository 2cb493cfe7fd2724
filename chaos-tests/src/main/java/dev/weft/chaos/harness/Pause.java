package dev.weft.chaos.harness;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Pacing: how long a fault lasts, a client's think time. Returns false when interrupted. */
final class Pause {
    private Pause() {
    }

    static boolean of(Duration d) {
        try {
            TimeUnit.NANOSECONDS.sleep(d.toNanos());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static boolean millis(long ms) {
        return of(Duration.ofMillis(ms));
    }
}
