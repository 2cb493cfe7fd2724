package dev.weft.agent.http;

import java.time.Duration;

/**
 * Consul's read options: consistency mode ({@code ?stale}, {@code ?consistent}, default) and blocking
 * ({@code ?index=N&wait=D}; default wait 5 minutes, capped at 10).
 */
record QueryOptions(Consistency consistency, long minIndex, Duration maxWait) {

    static final Duration DEFAULT_WAIT = Duration.ofMinutes(5);
    static final Duration MAX_WAIT = Duration.ofMinutes(10);

    enum Consistency {
        DEFAULT("leader"), CONSISTENT("consistent"), STALE("stale");

        private final String header;

        Consistency(String header) {
            this.header = header;
        }

        /** Value of {@code X-Consul-Effective-Consistency}. */
        String header() {
            return header;
        }
    }

    boolean blocking() {
        return minIndex > 0;
    }

    static QueryOptions parse(ApiRequest req) {
        boolean stale = req.has("stale");
        boolean consistent = req.has("consistent");
        if (stale && consistent) {
            throw HttpError.badRequest("Cannot specify ?stale with ?consistent, conflicting semantics.");
        }
        Consistency c = stale ? Consistency.STALE : consistent ? Consistency.CONSISTENT : Consistency.DEFAULT;
        Duration wait = DEFAULT_WAIT;
        if (req.has("wait")) {
            try {
                wait = GoDuration.parse(req.param("wait"));
            } catch (IllegalArgumentException e) {
                throw HttpError.badRequest("Invalid wait time");
            }
            if (wait.isNegative() || wait.isZero()) {
                wait = DEFAULT_WAIT;
            }
            if (wait.compareTo(MAX_WAIT) > 0) {
                wait = MAX_WAIT;
            }
        }
        long index = 0;
        if (req.has("index")) {
            try {
                index = Long.parseUnsignedLong(req.param("index"));
            } catch (NumberFormatException e) {
                throw HttpError.badRequest("Invalid index");
            }
            if (index < 0) {
                index = Long.MAX_VALUE;
            }
        }
        return new QueryOptions(c, index, wait);
    }
}
