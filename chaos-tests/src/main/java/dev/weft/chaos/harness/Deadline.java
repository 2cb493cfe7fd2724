package dev.weft.chaos.harness;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Polls a condition every 20 ms until it yields a value or the deadline passes. */
final class Deadline {
    private Deadline() {
    }

    interface Probe<T> {
        /** The value, or null for "not yet". */
        T get() throws IOException;
    }

    static <T> T poll(Duration within, String what, Probe<T> probe) throws IOException {
        long end = System.nanoTime() + within.toNanos();
        while (true) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            if (System.nanoTime() > end) {
                throw new IOException("timed out after " + within.toMillis() + " ms waiting for " + what);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for " + what, e);
            }
        }
    }
}
