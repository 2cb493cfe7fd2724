package dev.weft.agent.http;

import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.acl.AclCatalogView;
import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.acl.Authorizer;
import dev.weft.kvstore.acl.CommandAuthorizer;
import dev.weft.kvstore.acl.Resource;
import dev.weft.kvstore.acl.TokenResolver;
import dev.weft.kvstore.feed.FeedProtocol;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.Command;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ACL enforcement of the HTTP API. Before an endpoint runs, {@link #admit} resolves the request's token (403
 * "ACL not found" for an unknown secret) and applies the route-level rules (operator, snapshot, agent, internal);
 * endpoints then check names and filter lists with {@link ApiRequest#authz()}, and every proposal passes
 * {@link #authorize}, which asks {@link CommandAuthorizer}. Refusals are 403 "Permission denied" and count in
 * {@code weft_acl_denied_total}.
 */
final class AclGate {
    private static final Logger log = LoggerFactory.getLogger(AclGate.class);
    static final String PERMISSION_DENIED = "Permission denied";

    private final AclConfig config;
    private final TokenResolver resolver;
    private final ReplicatedStore store;
    private final String nodeName;
    private final Counter denied;

    private AclGate(AclConfig config, ReplicatedStore store, String nodeName, Counter denied) {
        this.config = config;
        this.resolver = new TokenResolver(config.defaultAllow());
        this.store = store;
        this.nodeName = nodeName;
        this.denied = denied;
    }

    static AclGate disabled() {
        return new AclGate(AclConfig.DISABLED, null, "", null);
    }

    static AclGate of(AclConfig config, ReplicatedStore store, String nodeName, MeterRegistry registry) {
        if (!config.enabled()) {
            return disabled();
        }
        return new AclGate(config, store, nodeName, Counter.builder("weft.acl.denied")
                .description("Requests and proposals refused by ACLs").register(registry));
    }

    boolean enabled() {
        return config.enabled();
    }

    TokenResolver resolver() {
        return resolver;
    }

    void admit(Router.Route route, ApiRequest req) {
        if (!config.enabled()) {
            return;
        }
        String path = req.path();
        if (path.startsWith("/v1/status/") || path.equals(AclEndpoint.BOOTSTRAP)) {
            return; // open, as in Consul
        }
        Authorizer a;
        try {
            a = store.read(v -> resolver.resolve(v.acl(), req.token()));
        } catch (TokenResolver.AclNotFoundException e) {
            count(req, "unknown token");
            throw new HttpError(403, "ACL not found");
        }
        req.authz(a);
        boolean read = req.method().name().equals("GET");
        switch (route.group()) {
            case "/v1/operator", "/v1/weft/network" -> require(req, read ? a.operatorRead() : a.operatorWrite(),
                    read ? "operator read" : "operator write");
            case "/v1/snapshot" -> require(req, a.isManagement(), "management token");
            case "/v1/agent/metrics" -> require(req, a.read(Resource.AGENT, nodeName), "agent read");
            case "/v1/agent" -> {
                if (path.equals("/v1/agent/leave") || path.equals("/v1/agent/reload")) {
                    require(req, a.write(Resource.AGENT, nodeName), "agent write");
                } else if (path.equals(ClusterEndpoint.MEMBERS)) {
                    // a list: filtered by node read in ClusterEndpoint, as Consul does
                } else {
                    require(req, a.read(Resource.AGENT, nodeName), "agent read");
                }
            }
            case "/v1/internal" -> {
                if (!path.equals(FeedProtocol.APPLY)) {
                    require(req, a.operatorRead(), "operator read"); // feed and barrier; apply: per command
                }
            }
            default -> {
                // checked by the endpoint
            }
        }
    }

    /** Refuses a proposal the request's token may not make. */
    void authorize(ApiRequest req, Command command) {
        if (!config.enabled()) {
            return;
        }
        Authorizer a = req.authz();
        String missing = store.read(v -> CommandAuthorizer.denied(a, command, v));
        if (missing != null) {
            throw denied(req, missing);
        }
    }

    /** 403 unless {@code ok}. */
    void require(ApiRequest req, boolean ok, String what) {
        if (config.enabled() && !ok) {
            throw denied(req, what);
        }
    }

    HttpError denied(ApiRequest req, String what) {
        count(req, what);
        return new HttpError(403, PERMISSION_DENIED);
    }

    private void count(ApiRequest req, String what) {
        if (denied != null) {
            denied.increment();
        }
        log.debug("ACL: {} {} refused: {}", req.method().name(), req.path(), what);
    }

    /** A service's check is readable with service read, a node's check with node read. */
    static boolean mayRead(Authorizer a, CatalogCheck ch) {
        return AclCatalogView.mayRead(a, ch);
    }
}
