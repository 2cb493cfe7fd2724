package dev.weft.chaos.harness;

import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CI chaos profile: by default 6 runs × 60 s alternating 3 and 5 servers, every fault kind at least once
 * over the profile (the nemesis deck carries over between runs). Tunable with {@code -Dchaos.runs},
 * {@code -Dchaos.seconds}, {@code -Dchaos.servers=3,5}, {@code -Dchaos.seed}. Reports land in
 * {@code chaos-tests/target/chaos/<time>/}.
 */
class ChaosIT {

    @Test
    void shortProfilePassesEveryChecker() throws IOException {
        Requires.that(Toxiproxy.findServer() != null, "the Toxiproxy server (go install "
                + "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, or TOXIPROXY_SERVER)");
        Path jar = Path.of(System.getProperty("weft.jar", "../agent/target/weft.jar"));
        Requires.that(Files.isRegularFile(jar), "the agent jar " + jar + " (./mvnw -pl agent -am package)");
        int runs = Integer.getInteger("chaos.runs", 6);
        long seed = Long.getLong("chaos.seed", System.currentTimeMillis());
        List<Integer> servers = Arrays.stream(System.getProperty("chaos.servers", "3,5").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        Path out = Path.of(System.getProperty("basedir", "."), "target", "chaos", "ci-seed" + seed);
        ChaosMain.Profile profile = new ChaosMain.Profile(runs, Duration.ofSeconds(Integer.getInteger("chaos.seconds",
                60)), servers, seed, out, jar);

        List<ChaosRun.Result> results = ChaosMain.run(profile, System.out);

        List<String> failures = results.stream().filter(r -> !r.passed())
                .map(r -> "run " + r.spec().index() + " (" + r.runDir() + "):\n" + String.join("\n", r.problems()))
                .toList();
        assertEquals(List.of(), failures, "failing runs (seed " + seed + "; replay with -Dchaos.seed=" + seed + ")");
        Set<Fault> applied = results.stream().flatMap(r -> r.faults().stream()).map(Nemesis.Applied::fault)
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(Fault.class)));
        if (runs >= 6) {
            assertEquals(EnumSet.allOf(Fault.class), applied, "every fault kind applied at least once");
        }
        assertTrue(results.stream().allMatch(r -> r.operations() > 1000), "every run recorded a real history");
    }
}
