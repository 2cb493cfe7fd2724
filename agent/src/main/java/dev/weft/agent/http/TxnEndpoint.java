package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Limits;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.TxnOp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code PUT /v1/txn}: up to {@link Limits#MAX_TXN_OPS} KV operations applied atomically. 200 with
 * {@code {"Results":[{"KV":…}],"Errors":null}} when it commits, 409 with {@code {"Results":null,"Errors":[…]}}
 * when it rolls back. Every transaction goes through Raft (read-only ones included).
 */
final class TxnEndpoint implements Endpoint {
    private final ApiContext ctx;

    TxnEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        JsonNode root;
        try {
            int ops = countOperations(req.body());
            if (ops > Limits.MAX_TXN_OPS) {
                throw HttpError.tooLarge("Transaction contains too many operations (" + ops + " > "
                        + Limits.MAX_TXN_OPS + ")");
            }
            root = ConsulJson.MAPPER.readTree(req.body());
        } catch (IOException e) {
            throw HttpError.badRequest("Failed to parse body: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isArray()) {
            throw HttpError.badRequest("Failed to parse body: expected a JSON array of operations");
        }
        if (root.size() > Limits.MAX_TXN_OPS) {
            throw HttpError.tooLarge("Transaction contains too many operations (" + root.size() + " > "
                    + Limits.MAX_TXN_OPS + ")");
        }
        List<TxnOp> ops = new ArrayList<>(root.size());
        List<Result.TxnError> errors = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode op = root.get(i);
            JsonNode kv = op.isObject() ? ConsulJson.field(op, "KV") : null;
            if (kv == null || !kv.isObject()) {
                throw HttpError.badRequest("Failed to parse body: operation " + i
                        + " is not a KV operation (only KV operations are supported)");
            }
            String verbName = ConsulJson.text(kv, "Verb");
            String key = ConsulJson.text(kv, "Key");
            key = key == null ? "" : key;
            byte[] value = decodeValue(kv, i);
            if (Limits.checkValue(value) != null) {
                throw HttpError.tooLarge("Value for key \"" + key + "\" is too large (" + value.length + " > "
                        + Limits.MAX_VALUE_BYTES + " bytes)");
            }
            long flags = unsignedField(kv, "Flags", i);
            long index = unsignedField(kv, "Index", i);
            String session = ConsulJson.text(kv, "Session");
            TxnOp.Verb verb = TxnOp.Verb.fromWire(verbName == null ? "" : verbName);
            if (verb == null) {
                errors.add(new Result.TxnError(i, "unknown KV verb \"" + (verbName == null ? "" : verbName) + "\""));
                continue;
            }
            boolean tree = verb == TxnOp.Verb.GET_TREE || verb == TxnOp.Verb.DELETE_TREE;
            String keyProblem = Limits.checkKey(key, tree);
            if (keyProblem != null) {
                errors.add(new Result.TxnError(i, keyProblem));
                continue;
            }
            ops.add(new TxnOp(verb, key, value, flags, index, session == null || session.isEmpty() ? null : session));
        }
        if (!errors.isEmpty()) {
            return CompletableFuture.completedFuture(render(new Result.Txn(List.of(), errors)));
        }
        return ctx.submit(req, new Command.Txn(ops, ctx.now())).thenApply(a -> {
            Result r = ApiContext.result(a);
            if (r instanceof Result.Txn txn) {
                return render(txn);
            }
            throw new IllegalStateException("unexpected result " + r.getClass().getSimpleName());
        });
    }

    /**
     * Counts the top-level elements of a JSON array without building them (the body itself is bounded by
     * {@link HttpLimits#MAX_TXN_BODY_BYTES}): a transaction with too many operations is refused before its tree
     * exists. Anything that is not an array counts 0 (the full parse then names the problem).
     */
    static int countOperations(byte[] body) throws IOException {
        try (JsonParser p = ConsulJson.MAPPER.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                return 0;
            }
            int n = 0;
            JsonToken t;
            while ((t = p.nextToken()) != null && t != JsonToken.END_ARRAY) {
                n++;
                p.skipChildren();
            }
            return n;
        }
    }

    static ApiResponse render(Result.Txn txn) {
        byte[] body = ConsulJson.write(g -> {
            g.writeStartObject();
            if (txn.committed() && !txn.results().isEmpty()) {
                g.writeArrayFieldStart("Results");
                for (KvEntry e : txn.results()) {
                    g.writeStartObject();
                    g.writeFieldName("KV");
                    ConsulJson.kvEntry(g, e);
                    g.writeEndObject();
                }
                g.writeEndArray();
            } else {
                g.writeNullField("Results");
            }
            if (txn.committed()) {
                g.writeNullField("Errors");
            } else {
                g.writeArrayFieldStart("Errors");
                for (Result.TxnError err : txn.errors()) {
                    g.writeStartObject();
                    g.writeNumberField("OpIndex", err.opIndex());
                    g.writeStringField("What", err.what());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        });
        return ApiResponse.json(txn.committed() ? 200 : 409, body);
    }

    private static byte[] decodeValue(JsonNode kv, int i) {
        JsonNode v = ConsulJson.field(kv, "Value");
        if (v == null || v.isNull()) {
            return new byte[0];
        }
        if (!v.isTextual()) {
            throw HttpError.badRequest("Failed to parse body: operation " + i + ": Value must be a base64 string");
        }
        try {
            return Base64.getDecoder().decode(v.asText());
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest("Failed to parse body: operation " + i + ": failed to decode value: "
                    + e.getMessage());
        }
    }

    private static long unsignedField(JsonNode kv, String name, int i) {
        JsonNode n = ConsulJson.field(kv, name);
        if (n == null || n.isNull()) {
            return 0;
        }
        try {
            if (n.isIntegralNumber() || n.isTextual()) {
                return Long.parseUnsignedLong(n.asText());
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw HttpError.badRequest("Failed to parse body: operation " + i + ": " + name
                + " must be an unsigned integer");
    }

    static String firstLine(String s) {
        if (s == null) {
            return "invalid JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
