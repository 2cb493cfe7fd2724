package dev.weft.runtime;

/** A Docker Engine API version such as "1.41"; compared numerically (1.9 &lt; 1.41). */
record ApiVersion(int major, int minor) implements Comparable<ApiVersion> {

    static ApiVersion parse(String s) {
        if (s == null) {
            throw new IllegalArgumentException("no API version");
        }
        String t = s.trim();
        if (t.startsWith("v")) {
            t = t.substring(1);
        }
        int dot = t.indexOf('.');
        try {
            return dot < 0 ? new ApiVersion(Integer.parseInt(t), 0)
                    : new ApiVersion(Integer.parseInt(t.substring(0, dot)), Integer.parseInt(t.substring(dot + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an API version: '" + s + "'");
        }
    }

    /**
     * The version to speak: the server's own, capped at what this client knows, and never below the server's
     * minimum (the few shapes read here have been stable since 1.24, so speaking a newer minimum is safe).
     */
    static ApiVersion negotiate(ApiVersion server, ApiVersion serverMin, ApiVersion clientMax) {
        ApiVersion v = server.compareTo(clientMax) < 0 ? server : clientMax;
        return serverMin != null && v.compareTo(serverMin) < 0 ? serverMin : v;
    }

    @Override
    public int compareTo(ApiVersion o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
