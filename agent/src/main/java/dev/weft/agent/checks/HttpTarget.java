package dev.weft.agent.checks;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * An HTTP check's URL taken apart: where to connect, what to send as Host and request target, and the user
 * info for basic auth. Host names are read from the raw authority, so names java.net.URI refuses as hosts (a
 * Docker container called {@code my_app_1}) still work, as they do in Go.
 */
record HttpTarget(URI uri, boolean tls, HostPort address, String hostHeader, String requestTarget, String userInfo) {

    /** @throws IllegalArgumentException when {@code url} is not an absolute http(s) URL with a host */
    static HttpTarget parse(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("HTTP is not a valid URL: " + e.getMessage());
        }
        return of(u, url);
    }

    private static HttpTarget of(URI u, String text) {
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("HTTP must be an http:// or https:// URL, not \"" + text + "\"");
        }
        boolean tls = scheme.equals("https");
        String authority = u.getRawAuthority();
        if (authority == null || authority.isEmpty()) {
            throw new IllegalArgumentException("HTTP has no host: \"" + text + "\"");
        }
        String userInfo = "";
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            userInfo = URLDecoder.decode(authority.substring(0, at).replace("+", "%2B"), StandardCharsets.UTF_8);
            authority = authority.substring(at + 1);
        }
        int defaultPort = tls ? 443 : 80;
        HostPort address;
        boolean bracketed = authority.startsWith("[");
        int close = authority.indexOf(']');
        boolean hasPort = bracketed ? close >= 0 && close + 1 < authority.length() : authority.indexOf(':') >= 0;
        if (hasPort) {
            address = HostPort.parse(authority);
        } else if (bracketed) {
            address = close == authority.length() - 1 && close > 1
                    ? new HostPort(authority.substring(1, close), defaultPort) : null;
        } else {
            address = new HostPort(authority, defaultPort);
        }
        if (address == null || authority.isEmpty() || authority.startsWith(":")) {
            throw new IllegalArgumentException("HTTP has no valid host:port: \"" + text + "\"");
        }
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        String target = u.getRawQuery() == null ? path : path + "?" + u.getRawQuery();
        return new HttpTarget(u, tls, address, authority, target, userInfo);
    }

    /** The target of a redirect ({@code Location} resolved against this URL). */
    HttpTarget resolve(String location) {
        URI next;
        try {
            next = uri.resolve(new URI(location));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalArgumentException("failed to parse Location header \"" + location + "\": "
                    + e.getMessage());
        }
        return of(next, next.toString());
    }

    /** Same scheme, host and port (headers such as Authorization are kept on redirects only then). */
    boolean sameOrigin(HttpTarget other) {
        return tls == other.tls && address.port() == other.address.port()
                && address.host().equalsIgnoreCase(other.address.host());
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
