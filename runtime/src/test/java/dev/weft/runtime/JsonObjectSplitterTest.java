package dev.weft.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The incremental parser of the events stream: JSON objects back to back, split at arbitrary points. */
class JsonObjectSplitterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Objects with the awkward parts: braces and quotes inside strings, escapes, nesting, UTF-8, arrays. */
    private static final List<String> OBJECTS = List.of(
            "{\"status\":\"start\",\"id\":\"abc\",\"Type\":\"container\",\"Action\":\"start\","
                    + "\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"name\":\"web\",\"x\":\"}{\"}},"
                    + "\"time\":1700000000,\"timeNano\":1700000000123456789}",
            "{\"a\":\"quote \\\" and brace } and backslash \\\\\",\"b\":[{\"c\":{}},[]],\"d\":null}",
            "{\"Action\":\"health_status: healthy\",\"Actor\":{\"ID\":\"d\",\"Attributes\":{\"name\":\"été-☃-😀\"}}}",
            "{\"ends-with-backslash\":\"\\\\\",\"next\":\"{\"}",
            "{}");

    private static String stream(Random random) {
        StringBuilder s = new StringBuilder();
        for (String o : OBJECTS) {
            s.append(o);
            s.append(switch (random.nextInt(4)) {
                case 0 -> "";
                case 1 -> "\n";
                case 2 -> "\r\n";
                default -> " \t\n ";
            });
        }
        return s.toString();
    }

    @Test
    void findsEveryObjectWhateverTheSplit() throws IOException {
        Random random = new Random(7);
        for (int round = 0; round < 500; round++) {
            byte[] in = stream(random).getBytes(StandardCharsets.UTF_8);
            JsonObjectSplitter splitter = new JsonObjectSplitter(1 << 20);
            List<JsonNode> got = new ArrayList<>();
            int i = 0;
            while (i < in.length) {
                int n = Math.min(in.length - i, random.nextInt(round % 3 == 0 ? 3 : 40) + 1);
                splitter.feed(in, i, n, o -> got.add(parse(o)));
                i += n;
            }
            assertEquals(OBJECTS.size(), got.size());
            for (int k = 0; k < OBJECTS.size(); k++) {
                assertEquals(JSON.readTree(OBJECTS.get(k)), got.get(k));
            }
            assertTrue(splitter.idle());
        }
    }

    @Test
    void everySingleCutPoint() throws IOException {
        byte[] in = String.join("", OBJECTS).getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= in.length; cut++) {
            JsonObjectSplitter splitter = new JsonObjectSplitter(1 << 20);
            List<JsonNode> got = new ArrayList<>();
            splitter.feed(in, 0, cut, o -> got.add(parse(o)));
            splitter.feed(in, cut, in.length - cut, o -> got.add(parse(o)));
            assertEquals(OBJECTS.size(), got.size(), "cut at " + cut);
        }
    }

    /** The whole read path of an event stream: chunked framing, then objects, then container events. */
    @Test
    void chunkedEventStreamBecomesContainerEvents() throws IOException {
        String events = OBJECTS.get(0) + "\n" + OBJECTS.get(2) + "\n"
                + "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"n1\"}}\n";
        byte[] body = events.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (int i = 0; i < body.length; i += 17) {
            int n = Math.min(17, body.length - i);
            wire.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            wire.write(body, i, n);
            wire.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        byte[] in = wire.toByteArray();
        ChunkedDecoder chunks = new ChunkedDecoder();
        JsonObjectSplitter splitter = new JsonObjectSplitter(1 << 20);
        List<ContainerEvent> got = new ArrayList<>();
        for (int i = 0; i < in.length; i += 5) {
            chunks.feed(in, i, Math.min(5, in.length - i), (b, off, len) -> splitter.feed(b, off, len,
                    o -> EngineJson.event(parse(o)).ifPresent(got::add)));
        }
        assertEquals(List.of(new ContainerEvent("abc", "start", "web", 1700000000123456789L),
                new ContainerEvent("d", "health_status: healthy", "été-☃-😀", 0)), got);
    }

    @Test
    void legacyEventFieldsAreUnderstood() throws IOException {
        Optional<ContainerEvent> e = EngineJson.event(JSON.readTree(
                "{\"status\":\"die\",\"id\":\"c1\",\"from\":\"img\",\"time\":12}"));
        assertEquals(Optional.of(new ContainerEvent("c1", "die", "", 12_000_000_000L)), e);
    }

    @Test
    void rejectsGarbageBetweenObjectsAndOversizedObjects() {
        byte[] garbage = "{} x {}".getBytes(StandardCharsets.UTF_8);
        assertThrows(IOException.class,
                () -> new JsonObjectSplitter(1024).feed(garbage, 0, garbage.length, o -> { }));
        byte[] big = ("{\"a\":\"" + "x".repeat(5000) + "\"}").getBytes(StandardCharsets.UTF_8);
        assertThrows(IOException.class, () -> new JsonObjectSplitter(4096).feed(big, 0, big.length, o -> { }));
    }

    private static JsonNode parse(byte[] o) {
        try {
            return JSON.readTree(o);
        } catch (IOException e) {
            throw new AssertionError("not one JSON object: " + new String(o, StandardCharsets.UTF_8), e);
        }
    }
}
