package dev.weft.kvstore;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** House rules that can be checked: the state package stays deterministic and free of I/O and frameworks. */
class ConventionsTest {

    private static final Path STATE = Path.of("src/main/java/dev/weft/kvstore/state");

    private static final List<String> FORBIDDEN = List.of(
            "org.apache.ratis", "io.netty", "java.nio.file", "java.net", "java.time.Clock", "java.util.UUID",
            "java.util.Random", "ThreadLocalRandom", "System.currentTimeMillis", "System.nanoTime", "Instant.now",
            "new Thread", "java.util.concurrent", "java.io.File");

    @Test
    void statePackageIsDeterministicPlainJava() throws IOException {
        assertTrue(Files.isDirectory(STATE), "run from the module directory");
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.list(STATE)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    for (String bad : FORBIDDEN) {
                        if (lines.get(i).contains(bad)) {
                            violations.add(f.getFileName() + ":" + (i + 1) + " uses " + bad);
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    @Test
    void moduleHasReadme() {
        assertTrue(Files.isRegularFile(Path.of("README.md")), "kvstore/README.md");
    }
}
