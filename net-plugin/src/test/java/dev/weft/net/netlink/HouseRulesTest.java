package dev.weft.net.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The module's house rules, executable: setns has one home, the product never runs a command. */
class HouseRulesTest {
    private static final Path MAIN = Path.of("src/main/java");

    private static Map<Path, String> sources() throws IOException {
        try (Stream<Path> files = Files.walk(MAIN)) {
            return files.filter(p -> p.toString().endsWith(".java")).collect(Collectors.toMap(p -> p, p -> {
                try {
                    return Files.readString(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
        }
    }

    private static List<String> matching(Pattern pattern) throws IOException {
        return sources().entrySet().stream().filter(e -> pattern.matcher(e.getValue()).find())
                .map(e -> e.getKey().getFileName().toString()).sorted().toList();
    }

    @Test
    void setnsLivesInNetNsOnly() throws IOException {
        assertEquals(List.of("NetNs.java"), matching(Pattern.compile("\\bsetns\\s*\\(")));
    }

    @Test
    void theProductNeverRunsACommand() throws IOException {
        assertEquals(List.of(), matching(Pattern.compile("ProcessBuilder|Runtime\\.getRuntime|\\.exec\\s*\\(")));
    }

    @Test
    void readmeExistsAndIsShort() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("README.md"));
        assertTrue(lines.size() < 60, "README.md has " + lines.size() + " lines");
    }
}
