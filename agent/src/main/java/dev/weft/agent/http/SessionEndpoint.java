package dev.weft.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.acl.Resource;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Limits;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.Session;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/** {@code /v1/session/create|renew/<id>|destroy/<id>|info/<id>|list|node/<node>}. */
final class SessionEndpoint implements Endpoint {
    static final String CREATE = "/v1/session/create";
    static final String RENEW = "/v1/session/renew/";
    static final String DESTROY = "/v1/session/destroy/";
    static final String INFO = "/v1/session/info/";
    static final String LIST = "/v1/session/list";
    static final String NODE = "/v1/session/node/";

    static final long DEFAULT_LOCK_DELAY_MILLIS = 15_000;
    /** Consul reads a numeric LockDelay below this as seconds, otherwise as nanoseconds. */
    private static final long LOCK_DELAY_SECONDS_THRESHOLD = 1000;

    private final ApiContext ctx;

    SessionEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        String path = req.path();
        if (path.equals(CREATE)) {
            return create(req);
        }
        if (path.startsWith(RENEW)) {
            String id = id(path, RENEW);
            return ctx.submit(req, new Command.SessionRenew(id, ctx.now())).thenApply(a -> {
                Result r = ApiContext.result(a);
                Session s = r instanceof Result.SessionValue sv ? sv.session() : null;
                if (s == null) {
                    return ApiResponse.text(404, "Session id '" + id + "' not found");
                }
                return ApiResponse.json(ConsulJson.sessions(List.of(s)));
            });
        }
        if (path.startsWith(DESTROY)) {
            String id = id(path, DESTROY);
            return ctx.submit(req, new Command.SessionDestroy(id, ctx.now())).thenApply(a -> {
                ApiContext.result(a);
                return ApiResponse.bool(true);
            });
        }
        if (path.startsWith(INFO)) {
            String id = id(path, INFO);
            return ctx.queries.serve(req, WatchTarget.sessions(), view -> {
                Session found = view.session(id);
                Session s = found != null && req.authz().read(Resource.SESSION, found.node()) ? found : null;
                long index = view.sessionsIndex();
                return new ReadResult(index, () -> ApiResponse.json(ConsulJson.sessions(s == null ? List.of() : List.of(s))));
            });
        }
        if (path.equals(LIST)) {
            return ctx.queries.serve(req, WatchTarget.sessions(), view -> {
                List<Session> all = view.sessions().stream()
                        .filter(s -> req.authz().read(Resource.SESSION, s.node())).toList();
                long index = view.sessionsIndex();
                return new ReadResult(index, () -> ApiResponse.json(ConsulJson.sessions(all)));
            });
        }
        if (path.startsWith(NODE)) {
            String node = path.substring(NODE.length());
            if (node.isEmpty()) {
                throw HttpError.badRequest("Missing node name");
            }
            return ctx.queries.serve(req, WatchTarget.sessions(), view -> {
                List<Session> of = req.authz().read(Resource.SESSION, node) ? view.sessionsOfNode(node) : List.of();
                long index = view.sessionsIndex();
                return new ReadResult(index, () -> ApiResponse.json(ConsulJson.sessions(of)));
            });
        }
        throw HttpError.notFound("404 page not found");
    }

    private static String id(String path, String prefix) {
        String id = path.substring(prefix.length());
        if (id.isEmpty()) {
            throw HttpError.badRequest("Missing session");
        }
        return id;
    }

    private CompletableFuture<ApiResponse> create(ApiRequest req) {
        String name = "";
        String node = ctx.agent.nodeName();
        long ttlMillis = 0;
        long lockDelayMillis = DEFAULT_LOCK_DELAY_MILLIS;
        Session.Behavior behavior = Session.Behavior.RELEASE;
        if (req.body().length > 0) {
            JsonNode body;
            try {
                body = ConsulJson.MAPPER.readTree(req.body());
            } catch (IOException e) {
                throw HttpError.badRequest("Request decode failed: " + TxnEndpoint.firstLine(e.getMessage()));
            }
            if (body != null && !body.isNull()) {
                if (!body.isObject()) {
                    throw HttpError.badRequest("Request decode failed: expected a JSON object");
                }
                String n = ConsulJson.text(body, "Name");
                if (n != null) {
                    name = n;
                }
                String nd = ConsulJson.text(body, "Node");
                if (nd != null && !nd.isEmpty()) {
                    node = nd;
                }
                String b = ConsulJson.text(body, "Behavior");
                if (b != null && !b.isEmpty()) {
                    behavior = Session.Behavior.fromWire(b);
                    if (behavior == null) {
                        throw HttpError.badRequest("Invalid Behavior setting '" + b + "'");
                    }
                }
                ttlMillis = ttl(ConsulJson.text(body, "TTL"));
                JsonNode ld = ConsulJson.field(body, "LockDelay");
                if (ld != null && !ld.isNull()) {
                    lockDelayMillis = lockDelay(ld);
                }
            }
        }
        String id = UUID.randomUUID().toString();
        Command.SessionCreate cmd = new Command.SessionCreate(id, name, node, ttlMillis, lockDelayMillis, behavior,
                ctx.now());
        return ctx.submit(req, cmd).thenApply(a -> {
            Result r = ApiContext.result(a);
            String created = r instanceof Result.SessionValue sv && sv.session() != null ? sv.session().id() : id;
            return ApiResponse.json(ConsulJson.write(g -> {
                g.writeStartObject();
                g.writeStringField("ID", created);
                g.writeEndObject();
            }));
        });
    }

    private static long ttl(String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        Duration d;
        try {
            d = GoDuration.parse(text);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("Session TTL '" + text + "' invalid: " + e.getMessage());
        }
        long ms = d.toMillis();
        if (ms != 0 && (ms < Limits.MIN_SESSION_TTL_MILLIS || ms > Limits.MAX_SESSION_TTL_MILLIS)) {
            throw HttpError.badRequest("Invalid Session TTL '" + text + "', must be between ["
                    + GoDuration.format(Duration.ofMillis(Limits.MIN_SESSION_TTL_MILLIS)) + "="
                    + GoDuration.format(Duration.ofMillis(Limits.MAX_SESSION_TTL_MILLIS)) + "]");
        }
        return ms;
    }

    private static long lockDelay(JsonNode n) {
        Duration d;
        if (n.isTextual()) {
            try {
                d = GoDuration.parse(n.asText());
            } catch (IllegalArgumentException e) {
                throw HttpError.badRequest("Request decode failed: " + e.getMessage());
            }
            if (d.toNanos() < LOCK_DELAY_SECONDS_THRESHOLD) {
                d = Duration.ofSeconds(d.toNanos());
            }
        } else if (n.isNumber()) {
            long v = n.asLong();
            d = v < LOCK_DELAY_SECONDS_THRESHOLD ? Duration.ofSeconds(v) : Duration.ofNanos(v);
        } else {
            throw HttpError.badRequest("Request decode failed: LockDelay must be a duration string or a number");
        }
        if (d.isNegative() || d.toMillis() > Limits.MAX_LOCK_DELAY_MILLIS) {
            throw HttpError.badRequest("Invalid LockDelay '" + GoDuration.format(d) + "', must be between [0s="
                    + GoDuration.format(Duration.ofMillis(Limits.MAX_LOCK_DELAY_MILLIS)) + "]");
        }
        return d.toMillis();
    }
}
