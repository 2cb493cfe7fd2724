package dev.weft.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.acl.Resource;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Catalogs;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * {@code /v1/catalog/register|deregister|datacenters|nodes|services|service/<s>|node/<n>}, Consul-compatible:
 * Consul's request fields and defaults (service ID = name, check ID = name, status critical), Consul's messages,
 * and its blocking-query indexes (nodes table, services table, one service's health index).
 *
 * <p>Also holds the query-parameter helpers the health endpoints share ({@code ?dc}, {@code ?filter},
 * repeated {@code ?tag} and {@code ?node-meta}).
 */
final class CatalogEndpoint implements Endpoint {
    static final String REGISTER = "/v1/catalog/register";
    static final String DEREGISTER = "/v1/catalog/deregister";
    static final String DATACENTERS = "/v1/catalog/datacenters";
    static final String NODES = "/v1/catalog/nodes";
    static final String SERVICES = "/v1/catalog/services";
    static final String SERVICE = "/v1/catalog/service/";
    static final String NODE = "/v1/catalog/node/";

    private static final Pattern UUID_FORMAT = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final ApiContext ctx;

    CatalogEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        String path = req.path();
        checkQuery(req, ctx.agent);
        return switch (path) {
            case REGISTER -> register(req);
            case DEREGISTER -> deregister(req);
            case DATACENTERS -> CompletableFuture.completedFuture(
                    ApiResponse.json(ConsulJson.strings(List.of(ctx.agent.datacenter()))));
            case NODES -> nodes(req);
            case SERVICES -> services(req);
            default -> {
                if (path.startsWith(SERVICE)) {
                    yield service(req, name(path, SERVICE, "Missing service name"));
                }
                if (path.startsWith(NODE)) {
                    yield node(req, name(path, NODE, "Missing node name"));
                }
                throw HttpError.notFound("404 page not found");
            }
        };
    }

    // ---- reads -------------------------------------------------------------------------------------------

    private CompletableFuture<ApiResponse> nodes(ApiRequest req) {
        Map<String, String> meta = nodeMeta(req);
        String dc = ctx.agent.datacenter();
        return ctx.queries.serve(req, WatchTarget.catalog(CatalogView.TOPIC_NODES), view -> {
            CatalogView c = view.catalog();
            List<CatalogNode> out = new ArrayList<>();
            for (CatalogNode n : c.nodes()) {
                if (metaMatches(n, meta) && req.authz().read(Resource.NODE, n.node())) {
                    out.add(n);
                }
            }
            return new ReadResult(c.nodesIndex(), () -> ApiResponse.json(CatalogJson.nodes(out, dc)));
        });
    }

    private CompletableFuture<ApiResponse> services(ApiRequest req) {
        Map<String, String> meta = nodeMeta(req);
        if (meta.isEmpty()) {
            return ctx.queries.serve(req, WatchTarget.catalog(CatalogView.TOPIC_SERVICES), view -> {
                CatalogView c = view.catalog();
                Map<String, SortedSet<String>> all = new TreeMap<>(c.services());
                all.keySet().removeIf(name -> !req.authz().read(Resource.SERVICE, name));
                return new ReadResult(c.servicesIndex(), () -> ApiResponse.json(CatalogJson.services(all)));
            });
        }
        // With a node-meta filter, a node's metadata changing changes the answer too.
        WatchTarget target = anyOf(CatalogView.TOPIC_SERVICES, CatalogView.TOPIC_NODES);
        return ctx.queries.serve(req, target, view -> {
            CatalogView c = view.catalog();
            Map<String, SortedSet<String>> out = new TreeMap<>();
            for (CatalogService s : c.allServices()) {
                if (metaMatches(c.node(s.node()), meta) && req.authz().read(Resource.SERVICE, s.service())) {
                    out.computeIfAbsent(s.service(), k -> new TreeSet<>()).addAll(s.tags());
                }
            }
            long index = Math.max(c.servicesIndex(), c.nodesIndex());
            return new ReadResult(index, () -> ApiResponse.json(CatalogJson.services(out)));
        });
    }

    private CompletableFuture<ApiResponse> service(ApiRequest req, String name) {
        List<String> tags = values(req, "tag");
        Map<String, String> meta = nodeMeta(req);
        String dc = ctx.agent.datacenter();
        return ctx.queries.serve(req, WatchTarget.catalog(CatalogView.serviceTopic(name)), view -> {
            CatalogView c = view.catalog();
            List<CatalogJson.ServiceOnNode> out = new ArrayList<>();
            boolean visible = req.authz().read(Resource.SERVICE, name);
            for (CatalogService s : visible ? c.serviceInstances(name) : List.<CatalogService>of()) {
                CatalogNode n = c.node(s.node());
                if (n != null && tagsMatch(s, tags) && metaMatches(n, meta)
                        && req.authz().read(Resource.NODE, n.node())) {
                    out.add(new CatalogJson.ServiceOnNode(n, s));
                }
            }
            return new ReadResult(c.serviceIndex(name), () -> ApiResponse.json(CatalogJson.serviceNodes(out, dc)));
        });
    }

    private CompletableFuture<ApiResponse> node(ApiRequest req, String name) {
        String dc = ctx.agent.datacenter();
        WatchTarget target = anyOf(CatalogView.TOPIC_NODES, CatalogView.TOPIC_SERVICES);
        return ctx.queries.serve(req, target, view -> {
            CatalogView c = view.catalog();
            CatalogNode n = req.authz().read(Resource.NODE, name) ? c.node(name) : null;
            List<CatalogService> services = n == null ? List.of() : c.servicesOfNode(name).stream()
                    .filter(s -> req.authz().read(Resource.SERVICE, s.service())).toList();
            long index = Math.max(c.nodesIndex(), c.servicesIndex());
            return new ReadResult(index, () -> ApiResponse.json(CatalogJson.nodeServices(n, services, dc)));
        });
    }

    // ---- writes ------------------------------------------------------------------------------------------

    private CompletableFuture<ApiResponse> register(ApiRequest req) {
        JsonNode body = body(req, "RegisterRequest");
        checkDatacenter(str(body, "Datacenter", "RegisterRequest"), ctx.agent);
        String nodeName = str(body, "Node", "RegisterRequest");
        if (nodeName == null || nodeName.isEmpty()) {
            throw HttpError.badRequest("Must provide node");
        }
        String id = str(body, "ID", "RegisterRequest");
        if (id != null && !id.isEmpty()) {
            if (id.length() != 36) {
                throw HttpError.badRequest("Bad node ID: uuid string is wrong length");
            }
            if (!UUID_FORMAT.matcher(id).matches()) {
                throw HttpError.badRequest("Bad node ID: uuid is improperly formatted");
            }
        }
        String address = str(body, "Address", "RegisterRequest");
        boolean skipNodeUpdate = bool(body, "SkipNodeUpdate", "RegisterRequest");
        if ((address == null || address.isEmpty()) && !skipNodeUpdate) {
            throw HttpError.badRequest("Must provide address if SkipNodeUpdate is not set");
        }
        CatalogNode node = new CatalogNode(nodeName, id, address,
                stringMap(body, "TaggedAddresses", "RegisterRequest"),
                stringMap(body, "NodeMeta", "RegisterRequest"), 0, 0);

        CatalogService service = null;
        JsonNode svc = ConsulJson.field(body, "Service");
        if (svc != null && !svc.isNull()) {
            service = service(nodeName, object(svc, "RegisterRequest.Service"));
        }

        List<CatalogCheck> checks = new ArrayList<>();
        JsonNode check = ConsulJson.field(body, "Check");
        if (check != null && !check.isNull()) {
            checks.add(check(nodeName, object(check, "RegisterRequest.Check")));
        }
        JsonNode list = ConsulJson.field(body, "Checks");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw decodeFailed(list, "RegisterRequest.Checks", "structs.HealthChecks");
            }
            for (JsonNode c : list) {
                if (!c.isNull()) {
                    checks.add(check(nodeName, object(c, "RegisterRequest.Checks")));
                }
            }
        }
        if (checks.size() > Catalogs.MAX_CHECKS_PER_REGISTER) {
            throw HttpError.badRequest("Too many checks (max " + Catalogs.MAX_CHECKS_PER_REGISTER + ")");
        }

        // Checks of services registered earlier, and SkipNodeUpdate without an address, need the current view.
        CatalogService registering = service;
        boolean needsNode = address == null || address.isEmpty();
        List<String> unknownServices = new ArrayList<>();
        CatalogNode existing = ctx.store.read(view -> {
            CatalogView c = view.catalog();
            for (CatalogCheck ch : checks) {
                if (!ch.isNodeCheck() && (registering == null || !registering.id().equals(ch.serviceId()))
                        && c.service(nodeName, ch.serviceId()) == null) {
                    unknownServices.add("Unknown service ID '" + ch.serviceId() + "' for check ID '"
                            + ch.checkId() + "'");
                }
            }
            return needsNode ? c.node(nodeName) : null;
        });
        if (!unknownServices.isEmpty()) {
            throw HttpError.badRequest(unknownServices.get(0));
        }
        if (needsNode) {
            if (existing == null) {
                throw HttpError.badRequest("Must provide address: node '" + nodeName + "' is not registered");
            }
            node = existing.withIndexes(0, 0);
        }

        String invalid = Catalogs.validate(node);
        if (invalid == null && service != null) {
            invalid = Catalogs.validate(service);
        }
        for (int i = 0; invalid == null && i < checks.size(); i++) {
            invalid = Catalogs.validate(checks.get(i));
        }
        if (invalid != null) {
            throw HttpError.badRequest(invalid);
        }
        return ctx.submit(req, new Command.CatalogRegister(node, service, checks, skipNodeUpdate))
                .thenApply(a -> ApiResponse.bool(ApiContext.bool(a)));
    }

    /** Consul's {@code structs.NodeService} in a register request, with servicePreApply's defaults and checks. */
    private static CatalogService service(String nodeName, JsonNode s) {
        String where = "RegisterRequest.Service";
        String kind = str(s, "Kind", where);
        if (kind != null && !kind.isEmpty()) {
            throw HttpError.badRequest("Service kind '" + kind + "' is not supported (weft has no service mesh)");
        }
        String name = str(s, "Service", where);
        String id = str(s, "ID", where);
        name = name == null ? "" : name;
        if ((id == null || id.isEmpty()) && !name.isEmpty()) {
            id = name;
        }
        if (id != null && !id.isEmpty() && name.isEmpty()) {
            throw HttpError.badRequest("Must provide service name (Service.Service) when service ID is provided");
        }
        String address = str(s, "Address", where);
        if (isAnyAddress(address)) {
            throw HttpError.badRequest("Invalid service address");
        }
        int passing = 1;
        int warning = 1;
        JsonNode w = ConsulJson.field(s, "Weights");
        if (w != null && !w.isNull()) {
            object(w, where + ".Weights");
            int p = integer(w, "Passing", "Weights");
            int wa = integer(w, "Warning", "Weights");
            // Consul keeps the defaults when the weights are not valid (ToServiceNode).
            if (p >= 1 && p <= 65535 && wa >= 0 && wa <= 65535) {
                passing = p;
                warning = wa;
            }
        }
        return new CatalogService(nodeName, id == null ? "" : id, name, stringList(s, "Tags", where), address,
                integer(s, "Port", where), stringMap(s, "Meta", where), passing, warning,
                bool(s, "EnableTagOverride", where), 0, 0);
    }

    /** Consul's {@code structs.HealthCheck} in a register request: ID defaults to the name, status to critical. */
    private static CatalogCheck check(String nodeName, JsonNode c) {
        String where = "HealthCheck";
        String node = str(c, "Node", where);
        String checkId = str(c, "CheckID", where);
        String name = str(c, "Name", where);
        if ((checkId == null || checkId.isEmpty()) && name != null && !name.isEmpty()) {
            checkId = name;
        }
        checkId = checkId == null ? "" : checkId;
        if (node != null && !node.isEmpty() && !node.equals(nodeName)) {
            throw HttpError.badRequest("Node '" + node + "' for check '" + checkId
                    + "' doesn't match register request node '" + nodeName + "'");
        }
        String status = str(c, "Status", where);
        HealthStatus st = HealthStatus.CRITICAL;
        if (status != null && !status.isEmpty()) {
            st = HealthStatus.parse(status);
            if (st == null || !status.equals(st.wire())) {
                throw HttpError.badRequest("Invalid check status: \"" + status
                        + "\" (must be passing, warning or critical)");
            }
        }
        String interval = str(c, "Interval", where);
        String timeout = str(c, "Timeout", where);
        JsonNode def = ConsulJson.field(c, "Definition");
        if (def != null && def.isObject()) {
            if (interval == null || interval.isEmpty()) {
                interval = duration(def, "Interval");
            }
            if (timeout == null || timeout.isEmpty()) {
                timeout = duration(def, "Timeout");
            }
        }
        return new CatalogCheck(nodeName, checkId, name, st, str(c, "Notes", where),
                Catalogs.truncate(str(c, "Output", where), Catalogs.MAX_OUTPUT_BYTES), str(c, "ServiceID", where),
                null, null, str(c, "Type", where), interval, timeout, 0, 0, 0);
    }

    /** A duration of a check definition: Consul takes a Go duration string or a number of nanoseconds. */
    private static String duration(JsonNode def, String name) {
        JsonNode n = ConsulJson.field(def, name);
        if (n == null || n.isNull()) {
            return null;
        }
        try {
            Duration d = n.isNumber() ? Duration.ofNanos(n.asLong()) : GoDuration.parse(n.asText());
            return d.isZero() ? null : GoDuration.format(d);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("Request decode failed: " + e.getMessage());
        }
    }

    private CompletableFuture<ApiResponse> deregister(ApiRequest req) {
        JsonNode body = body(req, "DeregisterRequest");
        checkDatacenter(str(body, "Datacenter", "DeregisterRequest"), ctx.agent);
        String node = str(body, "Node", "DeregisterRequest");
        if (node == null || node.isEmpty()) {
            throw HttpError.badRequest("Must provide node");
        }
        String serviceId = str(body, "ServiceID", "DeregisterRequest");
        String checkId = str(body, "CheckID", "DeregisterRequest");
        return ctx.submit(req, new Command.CatalogDeregister(node, emptyToNull(serviceId), emptyToNull(checkId)))
                .thenApply(a -> ApiResponse.bool(ApiContext.bool(a)));
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    // ---- request body decoding (Go encoding/json semantics: case-insensitive names, null = zero value) ------

    private static JsonNode body(ApiRequest req, String goType) {
        if (req.body().length == 0) {
            throw HttpError.badRequest("Request decode failed: EOF");
        }
        JsonNode body;
        try {
            body = ConsulJson.MAPPER.readTree(req.body());
        } catch (IOException e) {
            throw HttpError.badRequest("Request decode failed: " + TxnEndpoint.firstLine(e.getMessage()));
        }
        if (body == null || body.isMissingNode()) {
            throw HttpError.badRequest("Request decode failed: EOF");
        }
        if (!body.isObject() && !body.isNull()) {
            throw HttpError.badRequest("Request decode failed: json: cannot unmarshal " + jsonType(body)
                    + " into Go value of type structs." + goType);
        }
        return body.isNull() ? ConsulJson.MAPPER.createObjectNode() : body;
    }

    private static JsonNode object(JsonNode n, String where) {
        if (!n.isObject()) {
            throw decodeFailed(n, where, "object");
        }
        return n;
    }

    private static HttpError decodeFailed(JsonNode n, String field, String goType) {
        return HttpError.badRequest("Request decode failed: json: cannot unmarshal " + jsonType(n)
                + " into Go struct field " + field + " of type " + goType);
    }

    private static String jsonType(JsonNode n) {
        if (n.isTextual()) {
            return "string";
        }
        if (n.isNumber()) {
            return "number";
        }
        if (n.isBoolean()) {
            return "bool";
        }
        if (n.isArray()) {
            return "array";
        }
        return n.isObject() ? "object" : "null";
    }

    private static String str(JsonNode obj, String name, String where) {
        JsonNode n = ConsulJson.field(obj, name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw decodeFailed(n, where + "." + name, "string");
        }
        return n.asText();
    }

    private static boolean bool(JsonNode obj, String name, String where) {
        JsonNode n = ConsulJson.field(obj, name);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw decodeFailed(n, where + "." + name, "bool");
        }
        return n.asBoolean();
    }

    private static int integer(JsonNode obj, String name, String where) {
        JsonNode n = ConsulJson.field(obj, name);
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw decodeFailed(n, where + "." + name, "int");
        }
        return n.asInt();
    }

    private static List<String> stringList(JsonNode obj, String name, String where) {
        JsonNode n = ConsulJson.field(obj, name);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw decodeFailed(n, where + "." + name, "[]string");
        }
        List<String> out = new ArrayList<>(n.size());
        for (JsonNode v : n) {
            if (!v.isTextual()) {
                throw decodeFailed(v, where + "." + name, "string");
            }
            out.add(v.asText());
        }
        return out;
    }

    private static Map<String, String> stringMap(JsonNode obj, String name, String where) {
        JsonNode n = ConsulJson.field(obj, name);
        if (n == null || n.isNull()) {
            return Map.of();
        }
        if (!n.isObject()) {
            throw decodeFailed(n, where + "." + name, "map[string]string");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw decodeFailed(e.getValue(), where + "." + name, "string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /** Consul's {@code ipaddr.IsAny}: 0.0.0.0, :: and [::] are not addresses a client can reach. */
    private static boolean isAnyAddress(String address) {
        if (address == null) {
            return false;
        }
        String a = address.strip();
        return a.equals("0.0.0.0") || a.equals("::") || a.equals("[::]") || a.equals("0:0:0:0:0:0:0:0");
    }

    // ---- query helpers shared with HealthEndpoint --------------------------------------------------------

    /** Path remainder after {@code prefix}; 400 with {@code missing} when empty. */
    static String name(String path, String prefix, String missing) {
        String name = path.substring(prefix.length());
        if (name.isEmpty()) {
            throw HttpError.badRequest(missing);
        }
        return name;
    }

    /**
     * Refuses what this agent cannot answer: another datacenter (500, as Consul without a WAN path) and
     * {@code ?filter} expressions, which weft does not support (400 rather than silently unfiltered results).
     */
    static void checkQuery(ApiRequest req, AgentInfo agent) {
        checkDatacenter(req.param("dc"), agent);
        if (req.has("filter")) {
            throw HttpError.badRequest("?filter is not supported: weft does not implement filter expressions"
                    + " (use ?tag, ?node-meta or ?passing)");
        }
    }

    static void checkDatacenter(String dc, AgentInfo agent) {
        if (dc != null && !dc.isEmpty() && !dc.equals(agent.datacenter())) {
            throw new HttpError(500, "No path to datacenter");
        }
    }

    /** Every value of a repeated query parameter ({@code ?tag=a&tag=b}), in order; empty when absent. */
    static List<String> values(ApiRequest req, String name) {
        if (!req.has(name)) {
            return List.of();
        }
        List<String> v = new QueryStringDecoder(req.encodedQuery(), StandardCharsets.UTF_8, false)
                .parameters().get(name);
        return v == null ? List.of() : v;
    }

    /** Consul's {@code ?node-meta=key:value} filters (repeatable; a pair without ':' means an empty value). */
    static Map<String, String> nodeMeta(ApiRequest req) {
        Map<String, String> out = new TreeMap<>();
        for (String pair : values(req, "node-meta")) {
            int colon = pair.indexOf(':');
            if (colon < 0) {
                out.put(pair, "");
            } else {
                out.put(pair.substring(0, colon), pair.substring(colon + 1));
            }
        }
        return out;
    }

    static boolean metaMatches(CatalogNode node, Map<String, String> filters) {
        if (filters.isEmpty()) {
            return true;
        }
        if (node == null) {
            return false;
        }
        for (Map.Entry<String, String> f : filters.entrySet()) {
            if (!f.getValue().equals(node.meta().get(f.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Every requested tag must be on the instance (case-insensitively, as Consul matches tags). */
    static boolean tagsMatch(CatalogService s, List<String> tags) {
        for (String t : tags) {
            if (!s.hasTag(t)) {
                return false;
            }
        }
        return true;
    }

    /** A watch on several catalog topics that fires once, on the first of them to change. */
    static WatchTarget anyOf(String... topics) {
        return (watches, callback) -> {
            OnceOf once = new OnceOf(callback);
            for (String t : topics) {
                once.add(watches.onCatalog(t, once::fire));
            }
            return once;
        };
    }

    /** The handles of {@link #anyOf}: the first firing cancels the others. */
    private static final class OnceOf implements Watches.Handle {
        private final Runnable callback;
        private final List<Watches.Handle> handles = new ArrayList<>(2);
        private boolean done;

        OnceOf(Runnable callback) {
            this.callback = callback;
        }

        void add(Watches.Handle h) {
            boolean cancel;
            synchronized (this) {
                cancel = done;
                if (!done) {
                    handles.add(h);
                }
            }
            if (cancel) {
                h.cancel();
            }
        }

        void fire() {
            if (finish()) {
                callback.run();
            }
        }

        @Override
        public void cancel() {
            finish();
        }

        private boolean finish() {
            List<Watches.Handle> all;
            synchronized (this) {
                if (done) {
                    return false;
                }
                done = true;
                all = List.copyOf(handles);
                handles.clear();
            }
            for (Watches.Handle h : all) {
                h.cancel();
            }
            return true;
        }
    }
}
