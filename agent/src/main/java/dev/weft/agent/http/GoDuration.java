package dev.weft.agent.http;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * Durations in Go's {@code time.ParseDuration} syntax ("10s", "5m", "1h30m", "1.5s", "100ms"), as Consul's
 * {@code wait}, session {@code TTL} and {@code LockDelay} use them.
 */
public final class GoDuration {
    private static final long NANOS_PER_MILLI = 1_000_000L;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private GoDuration() {
    }

    /**
     * @throws IllegalArgumentException when {@code text} is not a Go duration (a bare number other than "0" is
     *                                  refused, as Go does)
     */
    public static Duration parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("invalid duration \"\"");
        }
        String s = text;
        boolean negative = false;
        if (s.charAt(0) == '-' || s.charAt(0) == '+') {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw invalid(text);
        }
        BigDecimal total = BigDecimal.ZERO;
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                i++;
            }
            if (start == i) {
                throw invalid(text);
            }
            BigDecimal number;
            try {
                number = new BigDecimal(s.substring(start, i));
            } catch (NumberFormatException e) {
                throw invalid(text);
            }
            int unitStart = i;
            while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
                i++;
            }
            long unit = switch (s.substring(unitStart, i)) {
                case "ns" -> 1L;
                case "us", "\u00b5s", "\u03bcs" -> 1_000L;
                case "ms" -> NANOS_PER_MILLI;
                case "s" -> NANOS_PER_SECOND;
                case "m" -> 60 * NANOS_PER_SECOND;
                case "h" -> 3600 * NANOS_PER_SECOND;
                default -> throw invalid(text);
            };
            total = total.add(number.multiply(BigDecimal.valueOf(unit)));
        }
        if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw invalid(text);
        }
        long nanos = total.longValue();
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    /** Formats like Consul shows a session TTL: whole seconds as "15s", otherwise "1.5s"; zero as "". */
    public static String formatSeconds(long millis) {
        if (millis == 0) {
            return "";
        }
        if (millis % 1000 == 0) {
            return (millis / 1000) + "s";
        }
        return BigDecimal.valueOf(millis).movePointLeft(3).stripTrailingZeros().toPlainString() + "s";
    }

    /** Go's {@code time.Duration.String()} for whole milliseconds and up, e.g. "24h0m0s", "1m30s", "500ms". */
    public static String format(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0s";
        }
        StringBuilder sb = new StringBuilder();
        if (nanos < 0) {
            sb.append('-');
            nanos = -nanos;
        }
        if (nanos < NANOS_PER_SECOND) {
            return sb.append(BigDecimal.valueOf(nanos).movePointLeft(6).stripTrailingZeros().toPlainString())
                    .append("ms").toString();
        }
        long hours = nanos / (3600 * NANOS_PER_SECOND);
        long minutes = nanos / (60 * NANOS_PER_SECOND) % 60;
        BigDecimal seconds = BigDecimal.valueOf(nanos % (60 * NANOS_PER_SECOND)).movePointLeft(9).stripTrailingZeros();
        if (hours > 0) {
            sb.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            sb.append(minutes).append('m');
        }
        return sb.append(seconds.toPlainString()).append('s').toString();
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("time: invalid duration \"" + text + "\"");
    }
}
