package dev.weft.agent.http;

import dev.weft.kvstore.acl.Resource;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Limits;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** {@code /v1/kv/<key>}: GET (recurse, keys, separator, raw), PUT (flags, cas, acquire, release), DELETE. */
final class KvEndpoint implements Endpoint {
    static final String PREFIX = "/v1/kv/";

    private final ApiContext ctx;

    KvEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        String path = req.path();
        String key = path.startsWith(PREFIX) ? path.substring(PREFIX.length()) : "";
        String name = req.method().name();
        return switch (name) {
            case "GET" -> req.has("keys") ? keys(req, key) : get(req, key);
            case "PUT" -> put(req, key);
            case "DELETE" -> delete(req, key);
            default -> throw new IllegalStateException("method " + name);
        };
    }

    private CompletableFuture<ApiResponse> keys(ApiRequest req, String prefix) {
        checkKey(prefix, true);
        String sep = "";
        if (req.has("seperator")) {
            sep = req.param("seperator");
        }
        if (req.has("separator")) {
            sep = req.param("separator");
        }
        String separator = sep;
        return ctx.queries.serve(req, WatchTarget.prefix(prefix), view -> {
            List<String> keys = view.keys(prefix, separator).stream()
                    .filter(k -> req.authz().read(Resource.KEY, k)).toList();
            long index = view.indexOfPrefix(prefix);
            return new ReadResult(index, () -> keys.isEmpty() && !prefix.isEmpty()
                    ? ApiResponse.empty(404)
                    : ApiResponse.json(ConsulJson.strings(keys)));
        });
    }

    private CompletableFuture<ApiResponse> get(ApiRequest req, String key) {
        if (req.has("recurse")) {
            checkKey(key, true);
            return ctx.queries.serve(req, WatchTarget.prefix(key), view -> {
                List<KvEntry> entries = view.list(key).stream()
                        .filter(e -> req.authz().read(Resource.KEY, e.key())).toList();
                long index = view.indexOfPrefix(key);
                return new ReadResult(index, () -> entries.isEmpty()
                        ? ApiResponse.empty(404)
                        : ApiResponse.json(ConsulJson.kvEntries(entries)));
            });
        }
        checkKey(key, false);
        ctx.acl.require(req, req.authz().read(Resource.KEY, key), "key \"" + key + "\" read");
        boolean raw = req.has("raw");
        return ctx.queries.serve(req, WatchTarget.key(key), view -> {
            KvEntry e = view.get(key);
            long index = view.indexOfKey(key);
            return new ReadResult(index, () -> {
                if (e == null) {
                    return ApiResponse.empty(404);
                }
                if (raw) {
                    return new ApiResponse(200, "text/plain", e.value())
                            .header("X-Content-Type-Options", "nosniff")
                            .header("Content-Security-Policy", "sandbox");
                }
                return ApiResponse.json(ConsulJson.kvEntries(List.of(e)));
            });
        });
    }

    private CompletableFuture<ApiResponse> put(ApiRequest req, String key) {
        checkKey(key, false);
        conflicting(req, "cas", "acquire", "release");
        long flags = req.has("flags") ? req.unsignedParam("flags", "flags") : 0L;
        byte[] value = req.body();
        if (Limits.checkValue(value) != null) {
            throw HttpError.tooLarge(tooLarge(value.length));
        }
        Command cmd;
        boolean cas = req.has("cas");
        if (cas) {
            cmd = new Command.KvSet(key, value, flags, req.indexParam("cas", "CAS index"));
        } else if (req.has("acquire")) {
            cmd = new Command.KvAcquire(key, value, flags, session(req, "acquire"), ctx.now());
        } else if (req.has("release")) {
            cmd = new Command.KvRelease(key, value, flags, session(req, "release"));
        } else {
            cmd = new Command.KvSet(key, value, flags, Command.NO_CAS);
        }
        return ctx.submit(req, cmd).thenApply(a -> ApiResponse.bool(ApiContext.bool(a)));
    }

    private CompletableFuture<ApiResponse> delete(ApiRequest req, String key) {
        conflicting(req, "recurse", "cas");
        boolean recurse = req.has("recurse");
        checkKey(key, recurse);
        boolean cas = req.has("cas");
        long index = cas ? req.indexParam("cas", "CAS index") : Command.NO_CAS;
        return ctx.submit(req, new Command.KvDelete(key, recurse, index))
                .thenApply(a -> {
                    boolean ok = ApiContext.bool(a);
                    return ApiResponse.bool(!cas || ok);
                });
    }

    static String tooLarge(long size) {
        return "Request body(" + size + " bytes) too large, max size: " + Limits.MAX_VALUE_BYTES + " bytes.";
    }

    private static String session(ApiRequest req, String param) {
        String s = req.param(param);
        if (s == null || s.isEmpty()) {
            throw HttpError.badRequest("Missing session");
        }
        return s;
    }

    private static void checkKey(String key, boolean allowEmpty) {
        String problem = Limits.checkKey(key, allowEmpty);
        if (problem != null) {
            throw HttpError.badRequest(problem);
        }
    }

    /** Consul's conflictingFlags: at most one of the given parameters may be present. */
    static void conflicting(ApiRequest req, String... names) {
        int found = 0;
        for (String n : names) {
            if (req.has(n)) {
                found++;
            }
        }
        if (found > 1) {
            throw HttpError.badRequest("Conflicting flags: " + req.encodedQuery());
        }
    }
}
