package dev.weft.examples;

import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the examples as a user would, as root, on this machine: {@code examples/three-hosts/up.sh} (twice: the
 * second run must replace the first), {@code examples/prometheus/run.sh} and {@code examples/failover/run.sh} on
 * the hosts it left (one set of hosts for all three: building them is the slow part), then {@code down.sh}, and
 * checks what each prints and that nothing it made is left. The scripts get the agent jar
 * this build made ({@code WEFT_JAR}) and a state directory of this test's own.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExamplesIT {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path EXAMPLES = ROOT.resolve("examples");
    private static final Duration SCRIPT_LIMIT = Duration.ofMinutes(6);
    private static Path state;
    private static Path log;
    private static final List<Long> recordedPids = new ArrayList<>();

    @BeforeAll
    static void requirements() throws Exception {
        Requires.root();
        for (String c : List.of("ip", "nsenter", "unshare", "setsid", "dockerd", "docker", "curl", "jq")) {
            Requires.command(c);
        }
        Requires.that(Files.isExecutable(Path.of("/bin/busybox")), "/bin/busybox (Debian package busybox-static)");
        Path jar = ROOT.resolve("agent/target/weft.jar");
        assertTrue(Files.isRegularFile(jar), "the build made no " + jar);
        String netns = run(List.of("ip", "netns", "list"), Map.of()).output;
        assertFalse(netns.lines().anyMatch(l -> l.startsWith("wx-")),
                "an example is already set up on this machine (namespaces wx-*); remove it with "
                        + "examples/three-hosts/down.sh before running this test:\n" + netns);
        state = Files.createTempDirectory("weft-examples-it-");
        Files.delete(state); // the scripts create it
        log = ROOT.resolve("examples/target/examples-it.log");
        Files.createDirectories(log.getParent());
    }

    @AfterAll
    static void removeEverything() throws Exception {
        if (state != null) {
            run(List.of(EXAMPLES.resolve("three-hosts/down.sh").toString()), env());
        }
    }

    private static Map<String, String> env() {
        return Map.of("WEFT_EXAMPLE_DIR", state.toString(),
                "WEFT_JAR", ROOT.resolve("agent/target/weft.jar").toString());
    }

    @Test
    @Order(1)
    void threeHostsUpAnswersFromBothWebHostsThroughDnsOverTheOverlay() throws Exception {
        Result r = run(List.of(EXAMPLES.resolve("three-hosts/up.sh").toString()), env());
        assertEquals(0, r.code, "up.sh failed:\n" + r.output);
        assertBothHostsAnswered(r.output);
        recordPids();
    }

    @Test
    @Order(2)
    void threeHostsUpAgainReplacesTheFirstRun() throws Exception {
        List<Long> first = new ArrayList<>(recordedPids);
        Result r = run(List.of(EXAMPLES.resolve("three-hosts/up.sh").toString()), env());
        assertEquals(0, r.code, "the second up.sh failed:\n" + r.output);
        assertTrue(r.output.contains("an earlier run is still set up: removing it first"), r.output);
        assertBothHostsAnswered(r.output);
        for (long pid : first) {
            assertFalse(running(pid), "process " + pid + " of the first run is still running");
        }
        recordPids();
    }

    @Test
    @Order(3)
    void prometheusScrapesWhatTheRegistratorFoundThroughConsulServiceDiscovery() throws Exception {
        Requires.command("victoria-metrics");
        Result r = run(List.of(EXAMPLES.resolve("prometheus/run.sh").toString()), env());
        assertEquals(0, r.code, "prometheus/run.sh failed:\n" + r.output);
        assertTrue(r.output.contains("OK: the registrator's services were found through weft's Consul API and "
                + "scraped; a stop and a start were followed"), r.output);
        assertTrue(r.output.contains("discovered both through weft and scraped them: /api/v1/targets lists 2 up"),
                r.output);
        for (String h : List.of("h1", "h2")) {
            assertTrue(Pattern.compile("target http://10\\.248\\.\\d+\\.\\d+:9100/metrics  health up  "
                    + "service=demo-metrics node=" + h + " service_id=" + h + ":metrics-" + h + ":9100")
                    .matcher(r.output).find(), r.output);
            assertTrue(Pattern.compile("demo_up\\{service=\"demo-metrics\", node=\"" + h
                    + "\", instance=\"10\\.248\\.\\d+\\.\\d+:9100\"} 1").matcher(r.output).find(), r.output);
        }
        assertTrue(r.output.contains("sum(demo_up) = 2"), r.output);
        assertTrue(Pattern.compile("docker stop metrics-h2: its target went after [0-9.]+ s; left: the one on h1")
                .matcher(r.output).find(), r.output);
        assertTrue(Pattern.compile("docker start metrics-h2: its target was back and up after [0-9.]+ s")
                .matcher(r.output).find(), r.output);
        Path scraper = state.resolve("h3/victoria-metrics.pid");
        assertTrue(Files.isRegularFile(scraper), "no " + scraper);
        long pid = Long.parseLong(Files.readString(scraper).trim());
        assertTrue(running(pid), "the scraper is not running after the example");
        recordedPids.add(pid); // down.sh must stop it too
    }

    @Test
    @Order(4)
    void failoverKeepsReadsWritesDnsAndTrafficGoingWhenTheLeadersHostDies() throws Exception {
        Result r = run(List.of(EXAMPLES.resolve("failover/run.sh").toString()), env());
        assertEquals(0, r.code, "failover/run.sh failed:\n" + r.output);
        assertTrue(r.output.contains("OK: reads, writes, DNS and cross-host requests continued"), r.output);
        Matcher leader = Pattern.compile("new leader after +([0-9.]+) s").matcher(r.output);
        assertTrue(leader.find(), r.output);
        Matcher writes = Pattern.compile("writes \\+ reads via (h[123])'s agent +before: (\\d+)/(\\d+) ok; after the kill: "
                + "(\\d+) ok, (\\d+) failed").matcher(r.output);
        int writers = 0;
        while (writes.find()) {
            writers++;
            assertEquals(writes.group(2), writes.group(3), "writes failed before the kill: " + writes.group());
            assertTrue(Integer.parseInt(writes.group(4)) > 0, "no write succeeded after the kill: " + writes.group());
        }
        assertEquals(2, writers, "a line per surviving writer:\n" + r.output);
        assertTrue(Pattern.compile("after that +(\\d+)/\\1 requests ok, all answered by web-h[12]")
                .matcher(r.output).find(), r.output);
    }

    @Test
    @Order(5)
    void downRemovesEverythingItMadeAndOnlyThat() throws Exception {
        Result r = run(List.of(EXAMPLES.resolve("three-hosts/down.sh").toString()), env());
        assertEquals(0, r.code, "down.sh failed:\n" + r.output);
        String netns = run(List.of("ip", "netns", "list"), Map.of()).output;
        assertFalse(netns.lines().anyMatch(l -> l.startsWith("wx-")), "namespaces left:\n" + netns);
        assertFalse(Files.exists(state), state + " is left");
        for (long pid : recordedPids) {
            assertFalse(running(pid), "process " + pid + " is still running");
        }
        Result again = run(List.of(EXAMPLES.resolve("three-hosts/down.sh").toString()), env());
        assertEquals(0, again.code, "a second down.sh must succeed too:\n" + again.output);
    }

    private static void assertBothHostsAnswered(String output) {
        assertTrue(output.contains("OK: the client on h3 got answers from web on h1 and h2"), output);
        Matcher m = Pattern.compile("(\\d+) requests to web.service.weft: (\\d+) answered by web-h1 on h1, (\\d+) by "
                + "web-h2 on h2, (\\d+) failed").matcher(output);
        assertTrue(m.find(), output);
        assertTrue(Integer.parseInt(m.group(2)) > 0 && Integer.parseInt(m.group(3)) > 0, m.group());
        assertEquals("0", m.group(4), m.group());
    }

    /** The PIDs of the agents and dockerds the scripts recorded. */
    private static void recordPids() throws IOException {
        recordedPids.clear();
        try (Stream<Path> files = Files.walk(state, 2)) {
            for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".pid")
                    && !f.getFileName().toString().equals("docker.pid")).toList()) {
                recordedPids.add(Long.parseLong(Files.readString(p).trim()));
            }
        }
        assertEquals(6, recordedPids.size(), "3 agents and 3 dockerds: " + recordedPids);
    }

    /** Whether a process exists and is not a zombie (orphans that exited wait for init to reap them). */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return false; // gone
        }
    }

    private record Result(int code, String output) {
    }

    private static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("weft-examples-it-", ".out");
        try {
            Process p = pb.redirectOutput(out.toFile()).start();
            if (!p.waitFor(SCRIPT_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
                fail(command + " did not finish within " + SCRIPT_LIMIT + ":\n" + Files.readString(out));
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            if (log != null) {
                Files.writeString(log, "===== " + command + " (exit " + p.exitValue() + ")\n" + text,
                        StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
            return new Result(p.exitValue(), text);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
