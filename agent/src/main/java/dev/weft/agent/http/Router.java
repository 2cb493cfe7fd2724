package dev.weft.agent.http;

import dev.weft.kvstore.feed.FeedProtocol;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.state.Limits;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** Maps a path to its route: exact paths first, then the longest matching prefix. */
final class Router {
    /**
     * One route: a path (exact, or a prefix ending in "/"), its methods, the metrics path group, and its endpoint.
     */
    record Route(String path, boolean prefix, Set<String> methods, String group, Endpoint endpoint) {

        /** Body limit of a request on this route and the message of the 413 answer when a body exceeds it. */
        int maxBody(String method) {
            if (group.equals("/v1/kv") && method.equals("PUT")) {
                return Limits.MAX_VALUE_BYTES;
            }
            if (group.equals("/v1/txn")) {
                return HttpLimits.MAX_TXN_BODY_BYTES;
            }
            if (group.equals("/v1/snapshot") && method.equals("PUT")) {
                return SnapshotEndpoint.MAX_RESTORE_BYTES;
            }
            if (group.equals("/v1/internal") && method.equals("PUT")) {
                return RaftStore.MAX_ENTRY_BYTES;
            }
            return HttpLimits.DEFAULT_MAX_BODY_BYTES;
        }

        String tooLarge(String method, long size) {
            if (group.equals("/v1/kv") && method.equals("PUT")) {
                return KvEndpoint.tooLarge(size);
            }
            return "Request body too large, max size: " + maxBody(method) + " bytes";
        }
    }

    private final Map<String, Route> exact = new HashMap<>();
    private final ApiContext ctx;
    private final List<Route> prefixes = new ArrayList<>();

    Router(ApiContext ctx) {
        this.ctx = ctx;
        KvEndpoint kv = new KvEndpoint(ctx);
        Set<String> kvMethods = Set.of("GET", "PUT", "DELETE");
        add(new Route("/v1/kv", false, kvMethods, "/v1/kv", kv));
        add(new Route(KvEndpoint.PREFIX, true, kvMethods, "/v1/kv", kv));
        add(new Route("/v1/txn", false, Set.of("PUT"), "/v1/txn", new TxnEndpoint(ctx)));

        SessionEndpoint sessions = new SessionEndpoint(ctx);
        add(new Route(SessionEndpoint.CREATE, false, Set.of("PUT"), "/v1/session", sessions));
        add(new Route(SessionEndpoint.RENEW, true, Set.of("PUT"), "/v1/session", sessions));
        add(new Route(SessionEndpoint.DESTROY, true, Set.of("PUT"), "/v1/session", sessions));
        add(new Route(SessionEndpoint.INFO, true, Set.of("GET"), "/v1/session", sessions));
        add(new Route(SessionEndpoint.LIST, false, Set.of("GET"), "/v1/session", sessions));
        add(new Route(SessionEndpoint.NODE, true, Set.of("GET"), "/v1/session", sessions));

        ClusterEndpoint cluster = new ClusterEndpoint(ctx);
        add(new Route(ClusterEndpoint.LEADER, false, Set.of("GET"), "/v1/status", cluster));
        add(new Route(ClusterEndpoint.PEERS, false, Set.of("GET"), "/v1/status", cluster));
        add(new Route(ClusterEndpoint.SELF, false, Set.of("GET"), "/v1/agent", cluster));
        add(new Route(ClusterEndpoint.MEMBERS, false, Set.of("GET"), "/v1/agent", cluster));
        add(new Route(ClusterEndpoint.RAFT_CONFIGURATION, false, Set.of("GET"), "/v1/operator", cluster));
        add(new Route(ClusterEndpoint.RAFT_PEER, false, Set.of("DELETE"), "/v1/operator", cluster));
        add(new Route(ClusterEndpoint.TRANSFER_LEADER, false, Set.of("POST", "PUT"), "/v1/operator", cluster));

        CatalogEndpoint catalog = new CatalogEndpoint(ctx);
        add(new Route(CatalogEndpoint.REGISTER, false, Set.of("PUT"), "/v1/catalog", catalog));
        add(new Route(CatalogEndpoint.DEREGISTER, false, Set.of("PUT"), "/v1/catalog", catalog));
        add(new Route(CatalogEndpoint.DATACENTERS, false, Set.of("GET"), "/v1/catalog", catalog));
        add(new Route(CatalogEndpoint.NODES, false, Set.of("GET"), "/v1/catalog", catalog));
        add(new Route(CatalogEndpoint.SERVICES, false, Set.of("GET"), "/v1/catalog", catalog));
        add(new Route(CatalogEndpoint.SERVICE, true, Set.of("GET"), "/v1/catalog", catalog));
        add(new Route(CatalogEndpoint.NODE, true, Set.of("GET"), "/v1/catalog", catalog));

        HealthEndpoint health = new HealthEndpoint(ctx);
        add(new Route(HealthEndpoint.SERVICE, true, Set.of("GET"), "/v1/health", health));
        add(new Route(HealthEndpoint.CHECKS, true, Set.of("GET"), "/v1/health", health));
        add(new Route(HealthEndpoint.NODE, true, Set.of("GET"), "/v1/health", health));
        add(new Route(HealthEndpoint.STATE, true, Set.of("GET"), "/v1/health", health));

        AgentEndpoint agentLocal = new AgentEndpoint(ctx);
        add(new Route(AgentEndpoint.SERVICES, false, Set.of("GET"), "/v1/agent/service", agentLocal));
        add(new Route(AgentEndpoint.SERVICE, true, Set.of("GET", "PUT"), "/v1/agent/service", agentLocal));
        add(new Route(AgentEndpoint.CHECKS, false, Set.of("GET"), "/v1/agent/check", agentLocal));
        add(new Route(AgentEndpoint.CHECK, true, Set.of("PUT"), "/v1/agent/check", agentLocal));

        add(new Route(MetricsEndpoint.PATH, false, Set.of("GET"), "/v1/agent/metrics", new MetricsEndpoint(ctx)));
        add(new Route(SnapshotEndpoint.PATH, false, Set.of("GET", "PUT"), "/v1/snapshot", new SnapshotEndpoint(ctx)));
        add(new Route("/v1/agent/leave", false, Set.of("PUT"), "/v1/agent", req -> {
            Runnable leave = ctx.leaveAction;
            if (leave == null) {
                throw new HttpError(500, "this agent cannot leave through the API");
            }
            // the overlay's leave blocks on the store: off the event loop; the answer comes once it is done
            return CompletableFuture.supplyAsync(() -> {
                leave.run();
                return ApiResponse.empty(200);
            }, ctx.blockingExecutor);
        }));
        add(new Route("/v1/agent/reload", false, Set.of("PUT"), "/v1/agent", req -> {
            var reload = ctx.reloadAction;
            if (reload == null) {
                return CompletableFuture.completedFuture(ApiResponse.text(200, "Nothing to reload"));
            }
            // re-reads files: off the event loop; a bad new file is a 500 with the reason, the old material stays
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return ApiResponse.text(200, reload.call());
                } catch (Exception e) {
                    throw new HttpError(500, "Reload failed: " + e.getMessage());
                }
            }, ctx.blockingExecutor);
        }));
        NetworkEndpoint networks = new NetworkEndpoint(ctx);
        add(new Route(NetworkEndpoint.LIST, false, Set.of("GET"), "/v1/weft/network", networks));
        add(new Route(NetworkEndpoint.ONE, true, Set.of("GET", "PUT", "DELETE"), "/v1/weft/network", networks));
        AclEndpoint.routes(ctx).forEach(this::add);
        InternalEndpoint internal = new InternalEndpoint(ctx);
        add(new Route(FeedProtocol.FEED, false, Set.of("GET"), "/v1/internal", internal));
        add(new Route(FeedProtocol.BARRIER, false, Set.of("GET"), "/v1/internal", internal));
        add(new Route(FeedProtocol.APPLY, false, Set.of("PUT"), "/v1/internal", internal));
        prefixes.sort(Comparator.comparingInt((Route r) -> r.path().length()).reversed());
    }

    private void add(Route r) {
        if (r.prefix()) {
            prefixes.add(r);
        } else {
            exact.put(r.path(), r);
        }
    }

    /** Resolves the request's token and applies the route-level ACL checks (403 on refusal). */
    void admit(Route route, ApiRequest req) {
        ctx.acl.admit(route, req);
    }

    /** @return the route of the path, or null (404) */
    Route find(String path) {
        Route r = exact.get(path);
        if (r != null) {
            return r;
        }
        for (Route p : prefixes) {
            if (path.startsWith(p.path())) {
                return p;
            }
        }
        return null;
    }
}
