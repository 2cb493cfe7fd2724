package dev.weft.agent.http;

import dev.weft.kvstore.acl.Authorizer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * One decoded HTTP request: method, percent-decoded path, query parameters (Consul semantics: a parameter is
 * "set" when present, whatever its value) and the body copied out of Netty's buffers. Also the channel it came
 * on, so that asynchronous work can hop back onto its event loop and notice when it closes.
 */
final class ApiRequest {
    private final HttpMethod method;
    private final String path;
    private final Map<String, List<String>> params;
    private final HttpHeaders headers;
    private final byte[] body;
    private final Channel channel;
    /** What this request's token may do; set by {@link AclGate} before the endpoint runs. */
    private Authorizer authz = Authorizer.allowAll();

    ApiRequest(HttpMethod method, String path, Map<String, List<String>> params, HttpHeaders headers, byte[] body,
               Channel channel) {
        this.method = method;
        this.path = path;
        this.params = params;
        this.headers = headers;
        this.body = body;
        this.channel = channel;
    }

    static ApiRequest from(FullHttpRequest req, Channel channel) {
        QueryStringDecoder qs = new QueryStringDecoder(req.uri(), StandardCharsets.UTF_8);
        byte[] body = new byte[req.content().readableBytes()];
        req.content().getBytes(req.content().readerIndex(), body);
        return new ApiRequest(req.method(), qs.path(), qs.parameters(), req.headers(), body, channel);
    }

    Authorizer authz() {
        return authz;
    }

    void authz(Authorizer a) {
        authz = a;
    }

    /**
     * The request's ACL token, as Consul looks for it: {@code X-Consul-Token}, then {@code Authorization: Bearer},
     * then {@code ?token=}; "" when there is none.
     */
    String token() {
        String t = headers == null ? null : headers.get("X-Consul-Token");
        if (t != null && !t.isBlank()) {
            return t.trim();
        }
        String auth = headers == null ? null : headers.get("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return auth.substring(7).trim();
        }
        String q = param("token");
        return q == null ? "" : q;
    }

    HttpMethod method() {
        return method;
    }

    String path() {
        return path;
    }

    HttpHeaders headers() {
        return headers;
    }

    byte[] body() {
        return body;
    }

    Channel channel() {
        return channel;
    }

    /** Whether the request came over TLS (the HTTPS listener). */
    boolean secure() {
        return channel != null && channel.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
    }

    EventLoop eventLoop() {
        return channel.eventLoop();
    }

    boolean has(String name) {
        return params.containsKey(name);
    }

    /** First value of the parameter; "" when present without a value; null when absent. */
    String param(String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? (values == null ? null : "") : values.get(0);
    }

    /** The query string re-encoded like Go's {@code url.Values.Encode()} (sorted), for Consul's messages. */
    String encodedQuery() {
        StringJoiner sj = new StringJoiner("&");
        for (Map.Entry<String, List<String>> e : new TreeMap<>(params).entrySet()) {
            for (String v : e.getValue().isEmpty() ? List.of("") : e.getValue()) {
                sj.add(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(v, StandardCharsets.UTF_8));
            }
        }
        return sj.toString();
    }

    /** Parses an unsigned 64-bit query parameter, or answers 400 with {@code what} in the message. */
    long unsignedParam(String name, String what) {
        String v = param(name);
        try {
            return Long.parseUnsignedLong(v);
        } catch (NumberFormatException e) {
            throw HttpError.badRequest("Invalid " + what + ": \"" + v + "\" is not an unsigned integer");
        }
    }

    /** Parses a non-negative index parameter (at most 2^63-1), or answers 400. */
    long indexParam(String name, String what) {
        String v = param(name);
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw HttpError.badRequest("Invalid " + what + ": \"" + v + "\" is not an unsigned integer");
    }
}
