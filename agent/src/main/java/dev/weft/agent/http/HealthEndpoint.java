package dev.weft.agent.http;

import dev.weft.kvstore.acl.Resource;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.HealthStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /v1/health/service/<s>|checks/<s>|node/<n>|state/<state>}, Consul-compatible. A service's entries and
 * checks block on that service's health index (which moves with its instances, their checks, their nodes and
 * the nodes' checks); node and state queries block on the checks table.
 */
final class HealthEndpoint implements Endpoint {
    static final String SERVICE = "/v1/health/service/";
    static final String CHECKS = "/v1/health/checks/";
    static final String NODE = "/v1/health/node/";
    static final String STATE = "/v1/health/state/";

    private final ApiContext ctx;

    HealthEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        String path = req.path();
        CatalogEndpoint.checkQuery(req, ctx.agent);
        if (path.startsWith(SERVICE)) {
            return service(req, CatalogEndpoint.name(path, SERVICE, "Missing service name"));
        }
        if (path.startsWith(CHECKS)) {
            return checks(req, CatalogEndpoint.name(path, CHECKS, "Missing service name"));
        }
        if (path.startsWith(NODE)) {
            return node(req, CatalogEndpoint.name(path, NODE, "Missing node name"));
        }
        if (path.startsWith(STATE)) {
            return state(req, CatalogEndpoint.name(path, STATE, "Missing check state"));
        }
        throw HttpError.notFound("404 page not found");
    }

    private CompletableFuture<ApiResponse> service(ApiRequest req, String name) {
        boolean passing = passing(req);
        List<String> tags = CatalogEndpoint.values(req, "tag");
        Map<String, String> meta = CatalogEndpoint.nodeMeta(req);
        String dc = ctx.agent.datacenter();
        boolean visible = req.authz().read(Resource.SERVICE, name);
        return ctx.queries.serve(req, WatchTarget.catalog(CatalogView.serviceTopic(name)), view -> {
            CatalogView c = view.catalog();
            List<CatalogJson.HealthEntry> out = new ArrayList<>();
            for (CatalogService s : visible ? c.serviceInstances(name) : List.<CatalogService>of()) {
                CatalogNode n = c.node(s.node());
                if (n == null || !req.authz().read(Resource.NODE, n.node()) || !CatalogEndpoint.tagsMatch(s, tags)
                        || !CatalogEndpoint.metaMatches(n, meta)) {
                    continue;
                }
                List<CatalogCheck> checks = c.checksOfInstance(s).stream()
                        .filter(ch -> AclGate.mayRead(req.authz(), ch)).toList();
                if (passing && !allPassing(checks)) {
                    continue;
                }
                out.add(new CatalogJson.HealthEntry(n, s, checks));
            }
            return new ReadResult(c.serviceIndex(name), () -> ApiResponse.json(CatalogJson.healthEntries(out, dc)));
        });
    }

    private CompletableFuture<ApiResponse> checks(ApiRequest req, String name) {
        Map<String, String> meta = CatalogEndpoint.nodeMeta(req);
        return ctx.queries.serve(req, WatchTarget.catalog(CatalogView.serviceTopic(name)), view -> {
            CatalogView c = view.catalog();
            List<CatalogCheck> out = new ArrayList<>();
            for (CatalogCheck ch : c.checksOfService(name)) {
                if (CatalogEndpoint.metaMatches(c.node(ch.node()), meta) && AclGate.mayRead(req.authz(), ch)) {
                    out.add(ch);
                }
            }
            return new ReadResult(c.serviceIndex(name), () -> ApiResponse.json(CatalogJson.healthChecks(out)));
        });
    }

    private CompletableFuture<ApiResponse> node(ApiRequest req, String name) {
        return ctx.queries.serve(req, WatchTarget.catalog(CatalogView.TOPIC_CHECKS), view -> {
            CatalogView c = view.catalog();
            List<CatalogCheck> out = c.checksOfNode(name).stream()
                    .filter(ch -> AclGate.mayRead(req.authz(), ch)).toList();
            return new ReadResult(c.checksIndex(), () -> ApiResponse.json(CatalogJson.healthChecks(out)));
        });
    }

    private CompletableFuture<ApiResponse> state(ApiRequest req, String state) {
        HealthStatus status = null;
        if (!state.equals("any")) {
            status = HealthStatus.parse(state);
            if (status == null || !state.equals(status.wire())) {
                throw HttpError.badRequest("Invalid check state \"" + state
                        + "\": must be one of any, passing, warning, critical");
            }
        }
        HealthStatus wanted = status;
        Map<String, String> meta = CatalogEndpoint.nodeMeta(req);
        WatchTarget target = meta.isEmpty() ? WatchTarget.catalog(CatalogView.TOPIC_CHECKS)
                : CatalogEndpoint.anyOf(CatalogView.TOPIC_CHECKS, CatalogView.TOPIC_NODES);
        return ctx.queries.serve(req, target, view -> {
            CatalogView c = view.catalog();
            List<CatalogCheck> out = new ArrayList<>();
            for (CatalogCheck ch : c.checksInState(wanted)) {
                if (CatalogEndpoint.metaMatches(c.node(ch.node()), meta) && AclGate.mayRead(req.authz(), ch)) {
                    out.add(ch);
                }
            }
            long index = meta.isEmpty() ? c.checksIndex() : Math.max(c.checksIndex(), c.nodesIndex());
            return new ReadResult(index, () -> ApiResponse.json(CatalogJson.healthChecks(out)));
        });
    }

    private static boolean allPassing(List<CatalogCheck> checks) {
        for (CatalogCheck ch : checks) {
            if (ch.status() != HealthStatus.PASSING) {
                return false;
            }
        }
        return true;
    }

    /** {@code ?passing}: present without a value means true; otherwise Go's {@code strconv.ParseBool}. */
    private static boolean passing(ApiRequest req) {
        if (!req.has("passing")) {
            return false;
        }
        String v = req.param("passing");
        return switch (v) {
            case "", "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw HttpError.badRequest("Invalid value for ?passing");
        };
    }
}
