package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.acl.Authorizer;
import dev.weft.kvstore.acl.RulesParser;
import dev.weft.kvstore.acl.Secrets;
import dev.weft.kvstore.acl.TokenResolver;
import dev.weft.kvstore.state.AclPolicy;
import dev.weft.kvstore.state.AclToken;
import dev.weft.kvstore.state.AclView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Result;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Consul's ACL API: {@code PUT /v1/acl/bootstrap}; policies ({@code /v1/acl/policy[/:id|/name/:name]},
 * {@code /v1/acl/policies}); tokens ({@code /v1/acl/token[/:accessor]}, {@code /v1/acl/token/self},
 * {@code /v1/acl/tokens}). Writes need {@code acl = "write"} (checked with the other commands), reads
 * {@code acl = "read"}. Only a secret's hash is stored, so a token's SecretID appears in the answer that created
 * it (and in {@code token/self}, which the caller authenticated with) and nowhere else: other reads show
 * {@code <hidden>}, as Consul does for tokens without acl write.
 */
final class AclEndpoint implements Endpoint {
    private static final Logger log = LoggerFactory.getLogger(AclEndpoint.class);
    static final String BOOTSTRAP = "/v1/acl/bootstrap";
    static final String POLICY = "/v1/acl/policy";
    static final String POLICIES = "/v1/acl/policies";
    static final String TOKEN = "/v1/acl/token";
    static final String TOKEN_SELF = "/v1/acl/token/self";
    static final String TOKENS = "/v1/acl/tokens";
    private static final String HIDDEN = "<hidden>";
    private static final Pattern POLICY_NAME = Pattern.compile("^[A-Za-z0-9\\-_]{1,128}$");
    private static final int MAX_RULES_CHARS = 64 * 1024;
    private static final int MAX_DESCRIPTION_CHARS = 1024;
    private static final int MAX_POLICIES_PER_TOKEN = 32;

    private final ApiContext ctx;

    AclEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    static List<Router.Route> routes(ApiContext ctx) {
        AclEndpoint e = new AclEndpoint(ctx);
        String g = "/v1/acl";
        return List.of(
                new Router.Route(BOOTSTRAP, false, Set.of("PUT"), g, e),
                new Router.Route(POLICY, false, Set.of("PUT"), g, e),
                new Router.Route(POLICY + "/", true, Set.of("GET", "PUT", "DELETE"), g, e),
                new Router.Route(POLICIES, false, Set.of("GET"), g, e),
                new Router.Route(TOKEN, false, Set.of("PUT"), g, e),
                new Router.Route(TOKEN + "/", true, Set.of("GET", "PUT", "DELETE"), g, e),
                new Router.Route(TOKENS, false, Set.of("GET"), g, e));
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        if (!ctx.acl.enabled()) {
            throw new HttpError(401, "ACL support disabled");
        }
        String path = req.path();
        String method = req.method().name();
        if (path.equals(BOOTSTRAP)) {
            return bootstrap(req);
        }
        if (path.equals(POLICY)) {
            return setPolicy(req, null);
        }
        if (path.equals(POLICIES)) {
            requireRead(req);
            return done(json(g -> {
                g.writeStartArray();
                for (AclPolicy p : view(AclView::policies)) {
                    policy(g, p, false);
                }
                g.writeEndArray();
            }));
        }
        if (path.startsWith(POLICY + "/")) {
            String rest = path.substring(POLICY.length() + 1);
            boolean byName = rest.startsWith("name/");
            String key = byName ? rest.substring("name/".length()) : rest;
            if (key.isEmpty()) {
                throw HttpError.badRequest("Missing policy ID");
            }
            AclPolicy p = view(v -> byName ? v.policyByName(key) : v.policy(key));
            switch (method) {
                case "GET" -> {
                    requireRead(req);
                    if (p == null) {
                        throw HttpError.notFound("ACL policy not found");
                    }
                    return done(json(g -> policy(g, p, true)));
                }
                case "PUT" -> {
                    if (byName) {
                        throw new HttpError(405, "method PUT not allowed");
                    }
                    return setPolicy(req, key);
                }
                default -> {
                    if (byName) {
                        throw new HttpError(405, "method DELETE not allowed");
                    }
                    return ctx.submit(req, new Command.AclPolicyDelete(key)).thenApply(a -> {
                        ApiContext.result(a);
                        log.info("ACL: policy {} deleted", key);
                        return ApiResponse.bool(true);
                    });
                }
            }
        }
        if (path.equals(TOKEN)) {
            return setToken(req, null);
        }
        if (path.equals(TOKENS)) {
            requireRead(req);
            return done(json(g -> {
                g.writeStartArray();
                for (AclToken t : view(AclView::tokens)) {
                    token(g, t, HIDDEN);
                }
                g.writeEndArray();
            }));
        }
        if (path.equals(TOKEN_SELF) && method.equals("GET")) {
            String secret = req.token();
            AclToken t;
            try {
                t = view(v -> new TokenResolver(true).token(v, secret));
            } catch (TokenResolver.AclNotFoundException e) {
                throw new HttpError(403, "ACL not found");
            }
            if (t == null) {
                throw new HttpError(403, "ACL not found");
            }
            // without a token: the anonymous token, whose secret is "anonymous", as in Consul
            return done(json(g -> token(g, t, secret.isEmpty() ? "anonymous" : secret)));
        }
        String accessor = path.substring(TOKEN.length() + 1);
        if (accessor.isEmpty()) {
            throw HttpError.badRequest("Missing token ID");
        }
        switch (method) {
            case "GET" -> {
                requireRead(req);
                AclToken t = view(v -> v.token(accessor));
                if (t == null) {
                    throw HttpError.notFound("ACL token not found");
                }
                return done(json(g -> token(g, t, HIDDEN)));
            }
            case "PUT" -> {
                return setToken(req, accessor);
            }
            default -> {
                return ctx.submit(req, new Command.AclTokenDelete(accessor)).thenApply(a -> {
                    ApiContext.result(a);
                    log.info("ACL: token {} deleted", accessor);
                    return ApiResponse.bool(true);
                });
            }
        }
    }

    // ---- bootstrap ---------------------------------------------------------------------------------------

    private CompletableFuture<ApiResponse> bootstrap(ApiRequest req) {
        long done = view(AclView::bootstrapIndex);
        if (done != 0) {
            throw new HttpError(403, "Permission denied: ACL bootstrap no longer allowed (reset index: " + done + ")");
        }
        String secret = UUID.randomUUID().toString();
        String accessor = UUID.randomUUID().toString();
        long now = ctx.now();
        AclPolicy management = new AclPolicy(AclView.MANAGEMENT_POLICY_ID, AclView.MANAGEMENT_POLICY_NAME,
                "Builtin Policy that grants unlimited access", "", 0, 0);
        AclToken token = new AclToken(accessor, Secrets.hash(secret), "Bootstrap Token (Global Management)",
                List.of(AclView.MANAGEMENT_POLICY_ID), false, now, 0, 0);
        AclToken anonymous = new AclToken(AclView.ANONYMOUS_ACCESSOR_ID, Secrets.hash("anonymous"),
                "Anonymous Token", List.of(), false, now, 0, 0);
        return ctx.submit(req, new Command.AclBootstrap(management, token, anonymous)).thenApply(a -> {
            Result r = ApiContext.result(a);
            if (r instanceof Result.Bool b && !b.value()) {
                throw new HttpError(403, "Permission denied: ACL bootstrap no longer allowed (reset index: "
                        + view(AclView::bootstrapIndex) + ")");
            }
            AclToken stored = view(v -> v.token(accessor));
            log.info("ACL: bootstrapped; management token {}", accessor);
            return ApiResponse.json(json(g -> token(g, stored == null ? token : stored, secret)));
        });
    }

    // ---- policies ----------------------------------------------------------------------------------------

    private CompletableFuture<ApiResponse> setPolicy(ApiRequest req, String pathId) {
        JsonNode body = body(req);
        String name = ConsulJson.text(body, "Name");
        if (name == null || !POLICY_NAME.matcher(name).matches()) {
            throw HttpError.badRequest("Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' "
                    + "are allowed");
        }
        String rules = ConsulJson.text(body, "Rules");
        rules = rules == null ? "" : rules;
        if (rules.length() > MAX_RULES_CHARS) {
            throw HttpError.badRequest("Invalid Policy: rules longer than " + MAX_RULES_CHARS + " characters");
        }
        try {
            RulesParser.parse(rules);
        } catch (RulesParser.InvalidRulesException e) {
            throw HttpError.badRequest(e.getMessage());
        }
        checkDescription(ConsulJson.text(body, "Description"));
        String bodyId = ConsulJson.text(body, "ID");
        if (pathId != null && bodyId != null && !bodyId.isEmpty() && !bodyId.equals(pathId)) {
            throw HttpError.badRequest("Policy ID in URL and payload do not match");
        }
        String id = pathId != null ? pathId : UUID.randomUUID().toString();
        if (pathId != null && view(v -> v.policy(pathId)) == null) {
            throw HttpError.badRequest("Cannot find policy " + pathId);
        }
        AclPolicy p = new AclPolicy(id, name, ConsulJson.text(body, "Description"), rules, 0, 0);
        return ctx.submit(req, new Command.AclPolicySet(p)).thenApply(a -> {
            Result r = a.result();
            if (r instanceof Result.Invalid inv) {
                throw HttpError.badRequest(inv.message());
            }
            AclPolicy stored = view(v -> v.policy(id));
            log.info("ACL: policy {} ({}) {}", id, name, pathId == null ? "created" : "updated");
            return ApiResponse.json(json(g -> policy(g, stored == null ? p : stored, true)));
        });
    }

    // ---- tokens ------------------------------------------------------------------------------------------

    private CompletableFuture<ApiResponse> setToken(ApiRequest req, String pathAccessor) {
        JsonNode body = body(req);
        String bodyAccessor = ConsulJson.text(body, "AccessorID");
        if (pathAccessor != null && bodyAccessor != null && !bodyAccessor.isEmpty()
                && !bodyAccessor.equals(pathAccessor)) {
            throw HttpError.badRequest("Token Accessor ID in URL and payload do not match");
        }
        String secret = ConsulJson.text(body, "SecretID");
        AclToken old = pathAccessor == null ? null : view(v -> v.token(pathAccessor));
        if (pathAccessor != null && old == null) {
            throw HttpError.badRequest("Cannot find token " + pathAccessor);
        }
        String accessor;
        String hash;
        String shownSecret;
        if (old != null) {
            accessor = old.accessorId();
            if (secret != null && !secret.isEmpty() && !secret.equals(HIDDEN)
                    && !Secrets.hash(secret).equals(old.secretHash())) {
                throw HttpError.badRequest("Cannot change a token's SecretID");
            }
            hash = old.secretHash();
            shownSecret = secret != null && !secret.isEmpty() && !secret.equals(HIDDEN) ? secret : HIDDEN;
        } else {
            accessor = bodyAccessor != null && !bodyAccessor.isEmpty() ? bodyAccessor : UUID.randomUUID().toString();
            if (view(v -> v.token(accessor)) != null) {
                throw HttpError.badRequest("Invalid Token: AccessorID is already in use");
            }
            shownSecret = secret != null && !secret.isEmpty() ? secret : UUID.randomUUID().toString();
            hash = Secrets.hash(shownSecret);
        }
        List<String> policyIds = policyIds(body);
        if (policyIds.size() > MAX_POLICIES_PER_TOKEN) {
            throw HttpError.badRequest("Invalid Token: more than " + MAX_POLICIES_PER_TOKEN + " policies");
        }
        String description = ConsulJson.text(body, "Description");
        checkDescription(description);
        JsonNode local = ConsulJson.field(body, "Local");
        if (local != null && local.asBoolean()) {
            throw HttpError.badRequest("Local tokens are not supported: weft has one datacenter's state");
        }
        long created = old != null ? old.createTimeMillis() : ctx.now();
        AclToken t = new AclToken(accessor, hash, description == null && old != null ? old.description() : description,
                policyIds, false, created, 0, 0);
        return ctx.submit(req, new Command.AclTokenSet(t)).thenApply(a -> {
            Result r = a.result();
            if (r instanceof Result.Invalid inv) {
                throw HttpError.badRequest(inv.message());
            }
            AclToken stored = view(v -> v.token(accessor));
            log.info("ACL: token {} {} with policies {}", accessor, old == null ? "created" : "updated", policyIds);
            return ApiResponse.json(json(g -> token(g, stored == null ? t : stored, shownSecret)));
        });
    }

    /** {@code Policies: [{"ID": …} | {"Name": …}]} resolved to IDs. */
    private List<String> policyIds(JsonNode body) {
        JsonNode policies = ConsulJson.field(body, "Policies");
        List<String> ids = new ArrayList<>();
        if (policies == null || policies.isNull()) {
            return ids;
        }
        if (!policies.isArray()) {
            throw HttpError.badRequest("Request decode failed: Policies must be an array");
        }
        for (JsonNode link : policies) {
            if (!link.isObject()) {
                throw HttpError.badRequest("Request decode failed: a policy link must be an object");
            }
            String id = ConsulJson.text(link, "ID");
            String name = ConsulJson.text(link, "Name");
            AclPolicy p = id != null && !id.isEmpty() ? view(v -> v.policy(id))
                    : name != null ? view(v -> v.policyByName(name)) : null;
            if (p == null) {
                throw HttpError.badRequest("No such ACL policy with " + (id != null && !id.isEmpty()
                        ? "ID \"" + id + "\"" : "name \"" + name + "\""));
            }
            if (!ids.contains(p.id())) {
                ids.add(p.id());
            }
        }
        return ids;
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    private static void checkDescription(String d) {
        if (d != null && d.length() > MAX_DESCRIPTION_CHARS) {
            throw HttpError.badRequest("Description longer than " + MAX_DESCRIPTION_CHARS + " characters");
        }
    }

    private void requireRead(ApiRequest req) {
        Authorizer a = req.authz();
        ctx.acl.require(req, a.aclRead(), "acl read");
    }

    private <T> T view(Function<AclView, T> f) {
        return ctx.store.read(v -> f.apply(v.acl()));
    }

    private static JsonNode body(ApiRequest req) {
        JsonNode n;
        try {
            n = req.body().length == 0 ? null : ConsulJson.MAPPER.readTree(req.body());
        } catch (IOException e) {
            throw HttpError.badRequest("Request decode failed: " + TxnEndpoint.firstLine(e.getMessage()));
        }
        if (n == null || !n.isObject()) {
            throw HttpError.badRequest("Request decode failed: expected a JSON object");
        }
        return n;
    }

    private static byte[] json(ConsulJson.Body b) {
        return ConsulJson.write(b);
    }

    private static CompletableFuture<ApiResponse> done(byte[] json) {
        return CompletableFuture.completedFuture(ApiResponse.json(json));
    }

    private static void policy(JsonGenerator g, AclPolicy p, boolean withRules) throws IOException {
        g.writeStartObject();
        g.writeStringField("ID", p.id());
        g.writeStringField("Name", p.name());
        g.writeStringField("Description", p.description());
        if (withRules) {
            g.writeStringField("Rules", p.rules());
        }
        g.writeNullField("Datacenters");
        g.writeNumberField("CreateIndex", p.createIndex());
        g.writeNumberField("ModifyIndex", p.modifyIndex());
        g.writeEndObject();
    }

    private void token(JsonGenerator g, AclToken t, String secret) throws IOException {
        g.writeStartObject();
        g.writeStringField("AccessorID", t.accessorId());
        g.writeStringField("SecretID", secret);
        g.writeStringField("Description", t.description());
        g.writeArrayFieldStart("Policies");
        for (String id : t.policyIds()) {
            AclPolicy p = view(v -> v.policy(id));
            g.writeStartObject();
            g.writeStringField("ID", id);
            g.writeStringField("Name", p == null ? "" : p.name());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeBooleanField("Local", t.local());
        g.writeStringField("CreateTime", Instant.ofEpochMilli(t.createTimeMillis()).toString());
        g.writeNumberField("CreateIndex", t.createIndex());
        g.writeNumberField("ModifyIndex", t.modifyIndex());
        g.writeEndObject();
    }
}
