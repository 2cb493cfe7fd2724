package dev.weft.net.cni;

import java.util.List;

/** The CNI spec versions weft speaks, and their order. Pure. */
final class CniVersions {
    /** Every version a configuration may name (the {@code VERSION} command's {@code supportedVersions}). */
    static final List<String> SUPPORTED = List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");
    static final String LATEST = "1.1.0";

    private CniVersions() {
    }

    static boolean supported(String version) {
        return SUPPORTED.contains(version);
    }

    /** Whether {@code version} (one of {@link #SUPPORTED}) is {@code min} or later. */
    static boolean atLeast(String version, String min) {
        return compare(version, min) >= 0;
    }

    /** Numeric order of dotted versions ({@code 0.4.0 < 1.0.0 < 1.1.0}); a part that is not a number is 0. */
    static int compare(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(part(x, i), part(y, i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int part(String[] parts, int i) {
        if (i >= parts.length) {
            return 0;
        }
        try {
            return Integer.parseInt(parts[i]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
