package dev.weft.runtime;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the Docker {@code /events} stream parsing (Jazzer), as {@link DockerClient} runs it:
 * the chunked body ({@link ChunkedDecoder}) → object framing ({@link JsonObjectSplitter}) → JSON → {@link
 * EngineJson#event}. Invariants: only {@link IOException}s (a clear error; the stream then reconnects), never
 * another exception; every framed object starts with '{', ends with '}' and stays within
 * {@link EngineLimits#MAX_EVENT_BYTES}; and the framing does not depend on where the bytes were split. In
 * {@code ./mvnw verify} only the inputs under {@code EventStreamFuzzTestInputs/} run; {@code JAZZER_FUZZ=1}
 * fuzzes (see bench/fuzz.sh).
 */
class EventStreamFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "10m")
    void chunkedEventStream(byte[] body) {
        List<byte[]> objects = new ArrayList<>();
        JsonObjectSplitter splitter = new JsonObjectSplitter(EngineLimits.MAX_EVENT_BYTES);
        ChunkedDecoder chunks = new ChunkedDecoder();
        try {
            int used = chunks.feed(body, 0, body.length, (b, off, len) -> splitter.feed(b, off, len, objects::add));
            assertTrue(used >= 0 && used <= body.length);
        } catch (IOException e) {
            assertNotNull(e.getMessage(), "an error says what is wrong");
        }
        for (byte[] o : objects) {
            deliver(o);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void framingIgnoresSplitPoints(FuzzedDataProvider data) {
        int pieces = data.consumeInt(1, 16);
        int[] cuts = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            cuts[i] = data.consumeInt(0, 64);
        }
        byte[] stream = data.consumeRemainingAsBytes();
        List<byte[]> whole = new ArrayList<>();
        IOException wholeError = frame(stream, new int[0], whole);
        List<byte[]> split = new ArrayList<>();
        IOException splitError = frame(stream, cuts, split);
        assertEquals(wholeError == null, splitError == null, "an error does not depend on the split points");
        assertEquals(whole.size(), split.size());
        for (int i = 0; i < whole.size(); i++) {
            assertArrayEquals(whole.get(i), split.get(i));
            byte[] o = whole.get(i);
            assertTrue(o.length >= 2 && o[0] == '{' && o[o.length - 1] == '}');
            deliver(o);
        }
    }

    /** Feeds {@code stream} in pieces of the given sizes (then the rest); the error, if any. */
    private static IOException frame(byte[] stream, int[] cuts, List<byte[]> out) {
        JsonObjectSplitter splitter = new JsonObjectSplitter(EngineLimits.MAX_EVENT_BYTES);
        int at = 0;
        try {
            for (int cut : cuts) {
                int n = Math.min(cut, stream.length - at);
                splitter.feed(stream, at, n, out::add);
                at += n;
            }
            splitter.feed(stream, at, stream.length - at, out::add);
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    /** What {@code DockerClient} does with one framed object. */
    private static void deliver(byte[] object) {
        assertTrue(object.length <= EngineLimits.MAX_EVENT_BYTES);
        JsonNode n;
        try {
            n = JSON.readTree(object);
        } catch (IOException e) {
            return; // skipped with a warning
        }
        Optional<ContainerEvent> event = EngineJson.event(n);
        event.ifPresent(e -> {
            assertFalse(e.containerId().isEmpty());
            assertFalse(e.action().isEmpty());
        });
    }
}
