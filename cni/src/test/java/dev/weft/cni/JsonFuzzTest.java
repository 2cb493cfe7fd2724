package dev.weft.cni;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of weft-cni's own JSON reader (Jazzer), which reads the runtime's stdin before
 * anything else: either {@link IllegalArgumentException} (answered as CNI error 6) or the top-level string
 * members, never another exception or error (a stack overflow included); and whatever it accepts, Jackson — what
 * the agent parses the same bytes with — accepts too, with the same top-level strings. In {@code ./mvnw verify}
 * only the inputs under {@code JsonFuzzTestInputs/} run; {@code JAZZER_FUZZ=1} fuzzes (see bench/fuzz.sh).
 */
class JsonFuzzTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();

    @FuzzTest(maxDuration = "10m")
    void topLevelStrings(byte[] stdin) {
        String text = new String(stdin, StandardCharsets.UTF_8); // as Main reads it
        Map<String, String> strings;
        try {
            strings = Json.topLevelStrings(text);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(" at offset "), e.getMessage());
            return;
        }
        JsonNode tree;
        try {
            tree = JACKSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("weft-cni accepted what Jackson refuses: " + e.getMessage());
        }
        assertTrue(tree.isObject());
        int textual = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getValue().isTextual()) {
                textual++;
                assertEquals(f.getValue().asText(), strings.get(f.getKey()), f.getKey());
            }
        }
        assertEquals(textual, strings.size());
    }

    @Test
    void deepNestingIsAnErrorNotAStackOverflow() {
        String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.topLevelStrings(deep));
        assertTrue(e.getMessage().startsWith("nested deeper than 1000"), e.getMessage());
        String ok = "{\"a\":" + "[".repeat(998) + "]".repeat(998) + ",\"cniVersion\":\"1.0.0\"}";
        assertEquals("1.0.0", Json.topLevelStrings(ok).get("cniVersion"));
    }

    @Test
    void aUnicodeEscapeTakesFourHexDigitsAndNoSign() {
        // found by the fuzzer (input sign-in-unicode-escape): Integer.parseInt("+0e9", 16) is 0xe9
        for (String bad : new String[]{"+0e9", "-001", "0x12", " 123"}) {
            String json = "{\"name\":\"\\u" + bad + "\"}";
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.topLevelStrings(json),
                    json);
            assertTrue(e.getMessage().startsWith("bad \\u escape"), e.getMessage());
        }
        assertEquals(Map.of("name", "\u00e9\u00C9"), Json.topLevelStrings("{\"name\":\"\\u00e9\\u00C9\"}"));
    }

    @Test
    void agreesWithJacksonOnDuplicateNamesAndLongNumbers() {
        Map<String, String> last = Json.topLevelStrings("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"cniVersion\":1}");
        assertEquals(Map.of("name", "a"), last, "the last member of a name wins");
        String longNumber = "{\"mtu\":" + "9".repeat(1001) + "}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.topLevelStrings(longNumber));
        assertTrue(e.getMessage().startsWith("number longer than 1000"), e.getMessage());
        assertEquals(Map.of(), Json.topLevelStrings("{\"mtu\":" + "9".repeat(1000) + "}"));
    }
}
