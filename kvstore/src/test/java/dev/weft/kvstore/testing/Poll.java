package dev.weft.kvstore.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The one way tests wait for state: poll a probe until it answers, with a deadline. Shared with the agent's
 * tests through the kvstore test-jar.
 */
public final class Poll {
    /** Pause between two probes; short, and only ever inside a loop bounded by a deadline. */
    private static final long INTERVAL_MILLIS = 20;

    private Poll() {
    }

    /**
     * Calls {@code probe} until it returns a value that is neither null nor {@code Boolean.FALSE}, and returns
     * it. A probe that throws counts as "not yet" (members still starting). After {@code timeout} fails with an
     * {@link AssertionError} naming {@code what} and the last error seen.
     */
    public static <T> T until(Duration timeout, Supplier<String> what, Callable<T> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable last = null;
        while (true) {
            try {
                T value = probe.call();
                if (value != null && !Boolean.FALSE.equals(value)) {
                    return value;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what.get(), e);
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError failure = new AssertionError("timed out after " + timeout + " waiting for "
                        + what.get() + (last == null ? "" : "; last error: " + last));
                if (last != null) {
                    failure.initCause(last);
                }
                throw failure;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what.get(), e);
            }
        }
    }
}
