package dev.weft.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.catalog.LocalAgentState;
import dev.weft.agent.catalog.ServiceRegistration;
import dev.weft.agent.checks.CheckDefinition;
import dev.weft.kvstore.acl.Resource;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.HealthStatus;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The agent's own services and checks (Consul's /v1/agent/service/*, /v1/agent/check/*): registered locally,
 * run by this agent, and written to the catalog by anti-entropy ({@link LocalAgentState}). Answers come from the
 * agent's local state, never from the replicated catalog, exactly as in Consul.
 */
final class AgentEndpoint implements Endpoint {
    static final String SERVICES = "/v1/agent/services";
    static final String SERVICE = "/v1/agent/service/";
    static final String CHECKS = "/v1/agent/checks";
    static final String CHECK = "/v1/agent/check/";

    private final ApiContext ctx;

    AgentEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        LocalAgentState local = ctx.local;
        if (local == null) {
            throw new HttpError(500, "agent-local state is not available on this agent");
        }
        String path = req.path();
        String method = req.method().name();
        if (path.equals(SERVICES)) {
            noFilter(req);
            return done(servicesJson(local.services().stream()
                    .filter(sv -> req.authz().read(Resource.SERVICE, sv.service())).toList()));
        }
        if (path.equals(CHECKS)) {
            noFilter(req);
            return done(checksJson(local.checks().stream().filter(ch -> AclGate.mayRead(req.authz(), ch)).toList()));
        }
        if (path.startsWith(SERVICE)) {
            String rest = path.substring(SERVICE.length());
            if (rest.equals("register")) {
                requirePut(method);
                ServiceRegistration reg;
                try {
                    reg = ServiceRegistration.parse(body(req), local.nodeName());
                } catch (IllegalArgumentException e) {
                    throw HttpError.badRequest(e.getMessage());
                }
                ctx.acl.require(req, req.authz().write(Resource.SERVICE, reg.service().service()),
                        "service \"" + reg.service().service() + "\" write");
                local.addService(reg, "true".equalsIgnoreCase(req.param("replace-existing-checks"))
                        || (req.has("replace-existing-checks") && req.param("replace-existing-checks").isEmpty()));
                return done(ApiResponse.empty(200));
            }
            if (rest.startsWith("deregister/")) {
                requirePut(method);
                String id = rest.substring("deregister/".length());
                CatalogService known = local.service(id);
                if (known != null) {
                    ctx.acl.require(req, req.authz().write(Resource.SERVICE, known.service()),
                            "service \"" + known.service() + "\" write");
                }
                if (!local.removeService(id)) {
                    throw HttpError.notFound("Unknown service ID \"" + id + "\". Ensure that the service ID is "
                            + "passed, not the service name.");
                }
                return done(ApiResponse.empty(200));
            }
            if (method.equals("GET") && !rest.isEmpty() && !rest.contains("/")) {
                CatalogService s = local.service(rest);
                if (s == null) {
                    throw HttpError.notFound("unknown service ID: " + rest);
                }
                ctx.acl.require(req, req.authz().read(Resource.SERVICE, s.service()),
                        "service \"" + s.service() + "\" read");
                return done(ApiResponse.json(ConsulJson.write(g -> CatalogJson.agentService(g, s,
                        ctx.agent.datacenter()))));
            }
            throw HttpError.notFound("Not found: " + path);
        }
        if (path.startsWith(CHECK)) {
            String rest = path.substring(CHECK.length());
            requirePut(method);
            if (rest.equals("register")) {
                JsonNode json = body(req);
                CheckDefinition def;
                try {
                    def = CheckDefinition.parseAgentCheck(json);
                    checkWrite(req, local, def.serviceId());
                    local.addCheck(def, json);
                } catch (IllegalArgumentException e) {
                    throw HttpError.badRequest(e.getMessage());
                }
                return done(ApiResponse.empty(200));
            }
            int slash = rest.indexOf('/');
            if (slash <= 0) {
                throw HttpError.notFound("Not found: " + path);
            }
            String verb = rest.substring(0, slash);
            String id = rest.substring(slash + 1);
            for (CatalogCheck ch : local.checks()) {
                if (ch.checkId().equals(id)) {
                    checkWrite(req, local, ch.serviceId());
                }
            }
            if (verb.equals("deregister")) {
                if (!local.removeCheck(id)) {
                    throw HttpError.notFound("Unknown check ID \"" + id + "\". Ensure that the check ID is passed, "
                            + "not the check name.");
                }
                return done(ApiResponse.empty(200));
            }
            HealthStatus status;
            String output;
            switch (verb) {
                case "pass" -> {
                    status = HealthStatus.PASSING;
                    output = note(req);
                }
                case "warn" -> {
                    status = HealthStatus.WARNING;
                    output = note(req);
                }
                case "fail" -> {
                    status = HealthStatus.CRITICAL;
                    output = note(req);
                }
                case "update" -> {
                    JsonNode json = body(req);
                    String st = ConsulJson.text(json, "Status");
                    status = HealthStatus.parse(st);
                    if (status == null) {
                        throw HttpError.badRequest("Invalid check status: '" + (st == null ? "" : st) + "'");
                    }
                    String out = ConsulJson.text(json, "Output");
                    output = out == null ? "" : out;
                }
                default -> throw HttpError.notFound("Not found: " + path);
            }
            String problem = local.ttlUpdate(id, status, output);
            if (problem != null) {
                throw HttpError.notFound(problem);
            }
            return done(ApiResponse.empty(200));
        }
        throw HttpError.notFound("Not found: " + path);
    }

    /** A service's check needs write on the service, a node's check write on this node. */
    private void checkWrite(ApiRequest req, LocalAgentState local, String serviceId) {
        CatalogService svc = serviceId == null || serviceId.isEmpty() ? null : local.service(serviceId);
        if (svc != null) {
            ctx.acl.require(req, req.authz().write(Resource.SERVICE, svc.service()),
                    "service \"" + svc.service() + "\" write");
        } else {
            ctx.acl.require(req, req.authz().write(Resource.NODE, local.nodeName()),
                    "node \"" + local.nodeName() + "\" write");
        }
    }

    private static String note(ApiRequest req) {
        String n = req.param("note");
        return n == null ? "" : n;
    }

    private static void noFilter(ApiRequest req) {
        if (req.has("filter") && !req.param("filter").isEmpty()) {
            throw HttpError.badRequest("Failed to create boolean expression evaluator: the filter parameter is "
                    + "not supported by weft");
        }
    }

    private static void requirePut(String method) {
        if (!method.equals("PUT")) {
            throw new HttpError(405, "method " + method + " not allowed");
        }
    }

    private static JsonNode body(ApiRequest req) {
        byte[] b = req.body();
        if (b == null || b.length == 0) {
            throw HttpError.badRequest("Request decode failed: EOF");
        }
        try {
            JsonNode n = ConsulJson.MAPPER.readTree(b);
            if (n == null || !n.isObject()) {
                throw HttpError.badRequest("Request decode failed: body must be a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw HttpError.badRequest("Request decode failed: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private ApiResponse servicesJson(List<CatalogService> services) {
        return ApiResponse.json(ConsulJson.write(g -> {
            g.writeStartObject();
            for (CatalogService s : services) {
                g.writeFieldName(s.id());
                CatalogJson.agentService(g, s, ctx.agent.datacenter());
            }
            g.writeEndObject();
        }));
    }

    private static ApiResponse checksJson(List<CatalogCheck> checks) {
        return ApiResponse.json(ConsulJson.write(g -> {
            g.writeStartObject();
            for (CatalogCheck c : checks) {
                g.writeFieldName(c.checkId());
                CatalogJson.healthCheck(g, c);
            }
            g.writeEndObject();
        }));
    }

    private static CompletableFuture<ApiResponse> done(ApiResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
