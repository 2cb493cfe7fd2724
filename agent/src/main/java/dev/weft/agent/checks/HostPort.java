package dev.weft.agent.checks;

/**
 * A "host:port" as Go's net.SplitHostPort reads it: IPv6 hosts in brackets ("[::1]:80"), an empty host meaning
 * this machine, a numeric port 1..65535. {@code host} is without brackets.
 */
record HostPort(String host, int port) {

    /** @return null when {@code s} is not host:port */
    static HostPort parse(String s) {
        if (s == null || s.isEmpty()) {
            return null;
        }
        String host;
        String port;
        if (s.charAt(0) == '[') {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                return null;
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
            if (host.isEmpty()) {
                return null;
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                return null;
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0 || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
                return null;
            }
        }
        int p = parsePort(port);
        if (p < 1) {
            return null;
        }
        return new HostPort(host.isEmpty() ? "localhost" : host, p);
    }

    /** @return the port, or -1 when {@code s} is not a decimal number in 1..65535 */
    static int parsePort(String s) {
        if (s.isEmpty() || s.length() > 5) {
            return -1;
        }
        int p = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            p = p * 10 + (c - '0');
        }
        return p >= 1 && p <= 65535 ? p : -1;
    }

    /** As written in a URL or dial error: IPv6 literals in brackets. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
