package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Consul's JSON shapes, written with Jackson's streaming generator so the field order is exactly Consul's. */
final class ConsulJson {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonFactory FACTORY = MAPPER.getFactory();

    private ConsulJson() {
    }

    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    static byte[] write(Body body) {
        ByteArrayBuilder out = new ByteArrayBuilder(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] string(String s) {
        return write(g -> g.writeString(s));
    }

    static byte[] strings(List<String> values) {
        return write(g -> {
            g.writeStartArray();
            for (String v : values) {
                g.writeString(v);
            }
            g.writeEndArray();
        });
    }

    /** A uint64 (flags) written as Consul writes it, never negative. */
    static void unsigned(JsonGenerator g, long v) throws IOException {
        if (v >= 0) {
            g.writeNumber(v);
        } else {
            g.writeNumber(new BigInteger(Long.toUnsignedString(v)));
        }
    }

    /** Consul's DirEntry: LockIndex, Key, Flags, Value (base64 or null), Session (omitted when none), indexes. */
    static void kvEntry(JsonGenerator g, KvEntry e) throws IOException {
        g.writeStartObject();
        g.writeNumberField("LockIndex", e.lockIndex());
        g.writeStringField("Key", e.key());
        g.writeFieldName("Flags");
        unsigned(g, e.flags());
        if (e.hasValue()) {
            g.writeFieldName("Value");
            g.writeBinary(e.value());
        } else {
            g.writeNullField("Value");
        }
        if (e.session() != null && !e.session().isEmpty()) {
            g.writeStringField("Session", e.session());
        }
        g.writeNumberField("CreateIndex", e.createIndex());
        g.writeNumberField("ModifyIndex", e.modifyIndex());
        g.writeEndObject();
    }

    static byte[] kvEntries(List<KvEntry> entries) {
        return write(g -> {
            g.writeStartArray();
            for (KvEntry e : entries) {
                kvEntry(g, e);
            }
            g.writeEndArray();
        });
    }

    /** Consul's Session: LockDelay in nanoseconds, TTL as a duration string ("" when none). */
    static void session(JsonGenerator g, Session s) throws IOException {
        g.writeStartObject();
        g.writeStringField("ID", s.id());
        g.writeStringField("Name", s.name());
        g.writeStringField("Node", s.node());
        g.writeNumberField("LockDelay", s.lockDelayMillis() * 1_000_000L);
        g.writeStringField("Behavior", s.behavior().wireName());
        g.writeStringField("TTL", GoDuration.formatSeconds(s.ttlMillis()));
        g.writeArrayFieldStart("NodeChecks");
        g.writeEndArray();
        g.writeNullField("ServiceChecks");
        g.writeNumberField("CreateIndex", s.createIndex());
        g.writeNumberField("ModifyIndex", s.modifyIndex());
        g.writeEndObject();
    }

    static byte[] sessions(List<Session> sessions) {
        return write(g -> {
            g.writeStartArray();
            for (Session s : sessions) {
                session(g, s);
            }
            g.writeEndArray();
        });
    }

    /** A field of a JSON object, matched case-insensitively as Go's encoding/json does; null when absent. */
    static JsonNode field(JsonNode object, String name) {
        JsonNode exact = object.get(name);
        if (exact != null) {
            return exact;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    static String text(JsonNode object, String name) {
        JsonNode n = field(object, name);
        return n == null || n.isNull() ? null : n.asText();
    }
}
