package dev.weft.kvstore.state;

import java.util.Locale;

/** A health check's status, spelled on the wire as Consul does ({@code passing}, {@code warning}, {@code critical}). */
public enum HealthStatus {
    PASSING, WARNING, CRITICAL;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @return the status, or null when {@code s} is not one of the three */
    public static HealthStatus parse(String s) {
        if (s == null) {
            return null;
        }
        switch (s.toLowerCase(Locale.ROOT)) {
            case "passing":
                return PASSING;
            case "warning":
                return WARNING;
            case "critical":
                return CRITICAL;
            default:
                return null;
        }
    }

    /** The worse of two statuses (critical over warning over passing). */
    public HealthStatus worst(HealthStatus other) {
        return other != null && other.ordinal() > ordinal() ? other : this;
    }
}
