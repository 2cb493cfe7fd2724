package dev.weft.chaos.harness;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a chaos profile: {@code --runs N --seconds S --servers 3,5 --seed X --out DIR --weft-jar PATH}. Runs
 * alternate over the server counts; the nemesis deck (every fault once per pass) carries over from run to run,
 * so a profile with at least as many faults in total as there are fault kinds applies every one. Prints one
 * line per event and a summary table; writes {@code summary.txt} in the output directory. Exit code 0 when
 * every run passed, 1 otherwise, 2 on a usage error.
 */
public final class ChaosMain {
    /** A profile. */
    public record Profile(int runs, Duration duration, List<Integer> servers, long seed, Path outDir, Path weftJar,
                          List<Fault> faults) {
        public Profile(int runs, Duration duration, List<Integer> servers, long seed, Path outDir, Path weftJar) {
            this(runs, duration, servers, seed, outDir, weftJar, List.of(Fault.values()));
        }
    }

    private ChaosMain() {
    }

    public static void main(String[] args) throws IOException {
        Profile p;
        try {
            p = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("usage error: " + e.getMessage());
            System.err.println("usage: ChaosMain [--runs N] [--seconds S] [--servers 3,5] [--seed X] [--out DIR]"
                    + " [--weft-jar PATH] [--faults KIND,...]");
            System.exit(2);
            return;
        }
        List<ChaosRun.Result> results = run(p, System.out);
        System.exit(results.stream().allMatch(ChaosRun.Result::passed) ? 0 : 1);
    }

    static Profile parse(String[] args) {
        int runs = 6;
        int seconds = 60;
        List<Integer> servers = List.of(3, 5);
        long seed = System.currentTimeMillis();
        Path out = Path.of("target", "chaos", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path jar = Path.of(System.getProperty("weft.jar", "agent/target/weft.jar"));
        List<Fault> faults = List.of(Fault.values());
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            try {
                switch (a) {
                    case "--runs" -> runs = Integer.parseInt(v);
                    case "--seconds" -> seconds = Integer.parseInt(v);
                    case "--servers" -> servers = Arrays.stream(v.split(",")).map(String::trim)
                            .map(Integer::parseInt).toList();
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--out" -> out = Path.of(v);
                    case "--weft-jar" -> jar = Path.of(v);
                    case "--faults" -> faults = faults(v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(a + ": not a number: " + v);
            }
        }
        if (runs < 1 || seconds < 1 || servers.isEmpty() || servers.stream().anyMatch(n -> n < 3 || n > 9)) {
            throw new IllegalArgumentException("runs and seconds must be positive, servers between 3 and 9");
        }
        return new Profile(runs, Duration.ofSeconds(seconds), servers, seed, out, jar, faults);
    }

    private static List<Fault> faults(String v) {
        try {
            return Arrays.stream(v.split(",")).map(String::trim).map(s -> Fault.valueOf(s.toUpperCase(
                    java.util.Locale.ROOT))).toList();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--faults: one of " + Arrays.toString(Fault.values()) + ", got " + v);
        }
    }

    public static List<ChaosRun.Result> run(Profile p, PrintStream out) throws IOException {
        if (!Files.isRegularFile(p.weftJar())) {
            throw new IOException("no weft jar at " + p.weftJar() + " (build it: ./mvnw -pl agent -am package)");
        }
        Path server = Toxiproxy.findServer();
        if (server == null) {
            throw new IOException("no Toxiproxy server: go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0"
                    + " (or set TOXIPROXY_SERVER)");
        }
        Files.createDirectories(p.outDir());
        out.println("chaos profile: " + p.runs() + " runs x " + p.duration().toSeconds() + " s, servers "
                + p.servers() + ", seed " + p.seed() + ", faults " + p.faults() + ", output " + p.outDir().toAbsolutePath());
        Nemesis.Deck deck = new Nemesis.Deck(p.seed(), p.faults());
        List<ChaosRun.Result> results = new ArrayList<>();
        try (Toxiproxy toxiproxy = Toxiproxy.start(server, p.outDir().resolve("toxiproxy.log"))) {
            for (int i = 0; i < p.runs(); i++) {
                int n = p.servers().get(i % p.servers().size());
                out.println("==== run " + (i + 1) + "/" + p.runs() + " (" + n + " servers)");
                ChaosRun.Spec spec = new ChaosRun.Spec(i + 1, n, p.duration().toSeconds(), p.seed() + i, p.outDir(),
                        p.weftJar());
                ChaosRun.Result r = ChaosRun.run(spec, toxiproxy, deck, out);
                results.add(r);
                out.print(ChaosRun.describe(r));
            }
        }
        String summary = summary(p, results);
        out.print(summary);
        Files.writeString(p.outDir().resolve("summary.txt"), summary);
        return results;
    }

    static String summary(Profile p, List<ChaosRun.Result> results) {
        StringBuilder b = new StringBuilder("\nchaos summary: " + results.size() + " runs x "
                + p.duration().toSeconds() + " s, seed " + p.seed() + "\n");
        b.append(String.format("%-4s %-7s %-7s %9s %8s %-24s %7s %9s %9s %10s  %s%n", "run", "servers", "result",
                "ops", "unknown", "registers", "faults", "write rec", "read rec", "lin ms", "faults applied"));
        long ops = 0;
        long worst = 0;
        long worstRead = 0;
        int faults = 0;
        java.util.Set<Fault> kinds = java.util.EnumSet.noneOf(Fault.class);
        for (ChaosRun.Result r : results) {
            ops += r.operations();
            worst = Math.max(worst, r.maxNetworkRecoveryMillis());
            worstRead = Math.max(worstRead, r.maxReadRecoveryMillis());
            faults += r.faults().size();
            r.faults().forEach(a -> kinds.add(a.fault()));
            b.append(String.format("%-4d %-7d %-7s %9d %8d %-24s %7d %6d ms %6d ms %10d  %s%n", r.spec().index(),
                    r.spec().servers(), r.passed() ? "passed" : "FAILED", r.operations(),
                    r.outcomes().getOrDefault("UNKNOWN", 0L), r.linearizability(), r.faults().size(),
                    r.maxNetworkRecoveryMillis(), r.maxReadRecoveryMillis(), r.linearizabilityMillis(),
                    r.faults().stream().map(a -> a.fault().name()).toList()));
        }
        long passed = results.stream().filter(ChaosRun.Result::passed).count();
        b.append(passed).append('/').append(results.size()).append(" runs passed; ").append(ops)
                .append(" operations; ").append(faults).append(" faults (").append(kinds.size()).append(" of ")
                .append(Fault.values().length).append(" kinds); max write recovery after a network fault ").append(worst)
                .append(" ms (bar ").append(ChaosRun.RECOVERY_BAR_MILLIS).append(" ms); max consistent-read recovery ")
                .append(worstRead).append(" ms\n");
        return b.toString();
    }
}
