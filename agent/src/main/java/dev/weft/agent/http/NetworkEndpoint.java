package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.net.control.ControlSettings;
import dev.weft.net.control.ControlView;
import dev.weft.net.control.NetworkRegistry;
import dev.weft.net.control.NetworkRequest;
import dev.weft.net.control.PoolExhaustedException;

import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;

import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The overlay networks' registry over HTTP (weft's own API; Consul has none): {@code GET /v1/weft/networks}
 * lists them, {@code GET /v1/weft/network/<name>} shows one with its host leases and endpoints,
 * {@code PUT /v1/weft/network/<name>} creates one (body optional: {@code {"CIDR", "SubnetLength", "VNI", "MTU"}}),
 * {@code DELETE /v1/weft/network/<name>} deletes one without endpoints. Any agent serves it, with or without
 * {@code -overlay}: it only touches the replicated registry; hosts build devices when they join a network.
 * Reads come from the local view after a read barrier unless {@code ?stale}; writes run on the blocking executor.
 */
final class NetworkEndpoint implements Endpoint {
    static final String LIST = "/v1/weft/networks";
    static final String ONE = "/v1/weft/network/";
    private static final Set<String> FIELDS = Set.of("CIDR", "SubnetLength", "VNI", "MTU", "ID");

    private final ApiContext ctx;
    private final ControlView view;
    private final NetworkRegistry registry;

    NetworkEndpoint(ApiContext ctx) {
        this.ctx = ctx;
        this.view = new ControlView(ctx.store);
        this.registry = new NetworkRegistry(ctx.store, ControlSettings.defaults());
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        String method = req.method().name();
        if (req.path().equals(LIST)) {
            return read(req, () -> {
                ArrayNode out = ConsulJson.MAPPER.createArrayNode();
                view.networks().forEach(n -> out.add(network(n)));
                return out;
            });
        }
        String name = req.path().substring(ONE.length());
        if (name.isEmpty() || name.contains("/")) {
            throw HttpError.badRequest("Missing network name: use " + ONE + "<name>");
        }
        return switch (method) {
            case "GET" -> read(req, () -> {
                Network n = view.network(name).orElseThrow(() -> HttpError.notFound("Network not found: " + name));
                ObjectNode out = network(n);
                ArrayNode leases = out.putArray("Leases");
                for (HostLease l : view.leases(name)) {
                    leases.addObject().put("Host", l.host()).put("Subnet", l.subnet().toString())
                            .put("Gateway", l.gateway().getHostAddress())
                            .put("Underlay", l.underlay().getHostAddress()).put("VtepMAC", l.vtepMac().toString());
                }
                ArrayNode endpoints = out.putArray("Endpoints");
                for (dev.weft.net.model.Endpoint e : view.endpoints(name)) {
                    endpoints.addObject().put("ID", e.id()).put("Container", e.containerId()).put("Host", e.host())
                            .put("IP", e.ip().getHostAddress()).put("MAC", e.mac().toString());
                }
                return out;
            });
            case "PUT" -> create(name, req.body());
            case "DELETE" -> CompletableFuture.supplyAsync(() -> {
                try {
                    if (!registry.delete(name)) {
                        throw HttpError.notFound("Network not found: " + name);
                    }
                } catch (IllegalArgumentException e) {
                    throw HttpError.badRequest("Invalid network name: " + e.getMessage());
                } catch (IllegalStateException e) {
                    throw new HttpError(409, "Cannot delete network: " + e.getMessage());
                }
                return ApiResponse.bool(true);
            }, ctx.blockingExecutor);
            default -> throw new HttpError(405, "Method " + method + " not allowed");
        };
    }

    private interface Reader {
        JsonNode read();
    }

    private CompletableFuture<ApiResponse> read(ApiRequest req, Reader reader) {
        QueryOptions opts = QueryOptions.parse(req);
        CompletableFuture<Void> barrier = opts.consistency() == QueryOptions.Consistency.STALE
                ? CompletableFuture.completedFuture(null)
                : ctx.readBarrier.await();
        return barrier.thenApply(v -> {
            long index = ctx.store.read(x -> x.lastIndex());
            return ctx.queries.withReadHeaders(ApiResponse.json(bytes(reader.read())), index, opts.consistency());
        });
    }

    private CompletableFuture<ApiResponse> create(String name, byte[] body) {
        NetworkRequest request = NetworkRequest.named(name);
        if (body.length > 0) {
            JsonNode json;
            try {
                json = ConsulJson.MAPPER.readTree(body);
            } catch (java.io.IOException e) {
                throw HttpError.badRequest("Request decode failed: " + e.getMessage());
            }
            if (json != null && !json.isNull()) {
                if (!json.isObject()) {
                    throw HttpError.badRequest("Request decode failed: the body must be a JSON object");
                }
                for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
                    String f = it.next();
                    if (!FIELDS.contains(f)) {
                        throw HttpError.badRequest("Request decode failed: unknown field \"" + f + "\" (known: "
                                + "CIDR, SubnetLength, VNI, MTU, ID)");
                    }
                }
                try {
                    if (json.hasNonNull("CIDR")) {
                        request = request.withCidr(IpPrefix.parse(json.get("CIDR").asText()));
                    }
                } catch (IllegalArgumentException e) {
                    throw HttpError.badRequest("Invalid CIDR: " + e.getMessage());
                }
                request = new NetworkRequest(name, text(json, "ID"), request.cidr(), integer(json, "SubnetLength"),
                        integer(json, "VNI"), integer(json, "MTU"));
            }
        }
        NetworkRequest r = request;
        return CompletableFuture.supplyAsync(() -> {
            Optional<Network> existing = view.network(name);
            if (existing.isPresent()) {
                throw new HttpError(409, "Network already exists: " + name + " (" + existing.get().cidr() + ")");
            }
            try {
                return ApiResponse.json(bytes(network(registry.create(r))));
            } catch (PoolExhaustedException e) {
                throw new HttpError(409, "Cannot create network: " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw HttpError.badRequest("Invalid network: " + e.getMessage());
            }
        }, ctx.blockingExecutor);
    }

    private static String text(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw HttpError.badRequest("Request decode failed: " + field + " must be a string");
        }
        return v.asText();
    }

    private static int integer(JsonNode json, String field) {
        JsonNode v = json.get(field);
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw HttpError.badRequest("Request decode failed: " + field + " must be an integer");
        }
        return v.asInt();
    }

    static ObjectNode network(Network n) {
        return ConsulJson.MAPPER.createObjectNode().put("Name", n.name()).put("ID", n.id())
                .put("CIDR", n.cidr().toString()).put("SubnetLength", n.subnetLength()).put("VNI", n.vni())
                .put("MTU", n.mtu());
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return ConsulJson.MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
