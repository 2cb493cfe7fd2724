package dev.weft.agent.catalog;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ArrayList;
import java.util.Map;

/** Consul decodes JSON field names case-insensitively (Go's encoding/json); so do these lookups. */
final class JsonFields {
    private JsonFields() {
    }

    static JsonNode field(JsonNode obj, String... names) {
        if (obj == null || !obj.isObject()) {
            return null;
        }
        for (String name : names) {
            JsonNode exact = obj.get(name);
            if (exact != null && !exact.isNull()) {
                return exact;
            }
        }
        Iterator<Map.Entry<String, JsonNode>> it = obj.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            for (String name : names) {
                if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isNull()) {
                    return e.getValue();
                }
            }
        }
        return null;
    }

    static String text(JsonNode obj, String... names) {
        JsonNode n = field(obj, names);
        if (n == null) {
            return "";
        }
        if (!n.isValueNode()) {
            throw new IllegalArgumentException("Request decode failed: " + names[0] + " must be a string");
        }
        return n.asText();
    }

    static int integer(JsonNode obj, int dflt, String... names) {
        JsonNode n = field(obj, names);
        if (n == null) {
            return dflt;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("Request decode failed: " + names[0] + " must be an integer");
        }
        return n.intValue();
    }

    static boolean bool(JsonNode obj, String... names) {
        JsonNode n = field(obj, names);
        if (n == null) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException("Request decode failed: " + names[0] + " must be a boolean");
        }
        return n.booleanValue();
    }

    static List<String> strings(JsonNode obj, String... names) {
        JsonNode n = field(obj, names);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (!n.isArray()) {
            throw new IllegalArgumentException("Request decode failed: " + names[0] + " must be a list of strings");
        }
        for (JsonNode v : n) {
            if (!v.isTextual()) {
                throw new IllegalArgumentException("Request decode failed: " + names[0]
                        + " must be a list of strings");
            }
            out.add(v.asText());
        }
        return out;
    }

    static Map<String, String> stringMap(JsonNode obj, String... names) {
        JsonNode n = field(obj, names);
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null) {
            return out;
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException("Request decode failed: " + names[0] + " must be an object");
        }
        Iterator<Map.Entry<String, JsonNode>> it = n.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isValueNode()) {
                throw new IllegalArgumentException("Request decode failed: " + names[0]
                        + " values must be strings");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }
}
