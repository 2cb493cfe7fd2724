package dev.weft.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/** What the executable decides by itself (no agent): VERSION, bad input, an agent that is not there. Pure. */
class MainTest {
    @TempDir
    Path dir;

    private static Main.Outcome run(Map<String, String> env, String stdin) {
        return Main.run(env, stdin.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void versionIsAnsweredLocally() {
        Main.Outcome o = run(Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"1.0.0\"}");
        assertEquals(0, o.exitCode);
        assertEquals("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\","
                + "\"1.1.0\"]}", o.text());
        assertEquals(0, run(Map.of("CNI_COMMAND", "VERSION"), "").exitCode);
    }

    @Test
    void theTrainingRunForTheAotCacheDoesARealAddAgainstItsOwnSocket() throws Exception {
        Main.Outcome o = Training.run();
        assertEquals(0, o.exitCode, o.text());
        assertTrue(o.text().contains("\"10.0.0.2/24\""), o.text());
    }

    @Test
    void badInput() {
        String config = "{\"cniVersion\":\"0.4.0\",\"name\":\"blue\"}";
        assertEquals("{\"cniVersion\":\"0.4.0\",\"code\":4,\"msg\":\"CNI_COMMAND is not set\"}",
                run(Map.of(), config).text());
        assertEquals(4, code(run(Map.of("CNI_COMMAND", "FROB"), config)));
        assertEquals(6, code(run(Map.of("CNI_COMMAND", "ADD"), "{\"cniVersion\":\"1.0.0\",")));
        assertEquals(6, code(run(Map.of("CNI_COMMAND", "ADD"), "")));
        assertEquals(6, code(run(Map.of("CNI_COMMAND", "ADD"), "[]")));
        assertEquals(1, run(Map.of("CNI_COMMAND", "ADD"), "{").exitCode);
    }

    @Test
    void anAgentThatIsNotThere() {
        String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"blue\",\"agentSocket\":\"" + dir.resolve("none.sock")
                + "\"}";
        Main.Outcome add = run(Map.of("CNI_COMMAND", "ADD", "WEFT_CNI_SOCKET", "/elsewhere"), config);
        assertEquals(1, add.exitCode);
        assertEquals(11, code(add));
        assertTrue(add.text().contains(dir.resolve("none.sock").toString()), "agentSocket wins: " + add.text());
        assertEquals(50, code(run(Map.of("CNI_COMMAND", "STATUS"), config)));
        assertTrue(run(Map.of("CNI_COMMAND", "DEL", "WEFT_CNI_SOCKET", dir.resolve("x.sock").toString()),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"b\"}").text().contains("x.sock"));
    }

    @Test
    void jsonChecksAndQuotes() {
        assertEquals(Map.of("a", "x\"y", "c", "é"), Json.topLevelStrings(
                " {\"a\":\"x\\\"y\",\"b\":{\"a\":\"inner\"},\"n\":[1,-2.5e3,true,false,null],\"c\":\"\\u00e9\"} "));
        for (String bad : new String[]{"", "{", "{\"a\"}", "{\"a\":01}", "{\"a\":1,}", "{} {}", "{\"a\":tru}",
                "{\"a\":\"\n\"}", "[1]"}) {
            assertThrows(IllegalArgumentException.class, () -> Json.topLevelStrings(bad), bad);
        }
        StringBuilder b = new StringBuilder();
        Json.quote(b, "a\"b\\c\nd\u0001");
        assertEquals("\"a\\\"b\\\\c\\nd\\u0001\"", b.toString());
    }

    private static int code(Main.Outcome o) {
        String t = o.text();
        int i = t.indexOf("\"code\":");
        return Integer.parseInt(t.substring(i + 7, t.indexOf(',', i)));
    }
}
