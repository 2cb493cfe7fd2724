package dev.weft.agent.cluster;

import dev.weft.kvstore.testing.Poll;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three weft servers as separate JVM processes on 127.0.0.1: kill -9 the leader while a client writes, check
 * that a new leader takes over within 5 s, that writes resume, that every acknowledged write is on the
 * survivors, and that restarted members catch up from their data dir, by log replay and by snapshot install.
 * Logs: {@code target/process-cluster-it/<run>/n*.log}; their tails are attached to any failure.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ProcessClusterIT {

    private static final Duration FAILOVER = Duration.ofSeconds(5);
    private static final int SNAPSHOT_THRESHOLD = 200;
    /**
     * Values of the keys written while a follower is down: 500 x 32 KiB = 16 MiB, more than one Raft log segment
     * (8 MiB by default), so that the leader can purge a closed segment after its next snapshot and the follower
     * has to catch up by snapshot install.
     */
    private static final String PAD = "x".repeat(32 * 1024);

    private static final List<ForkedServer> servers = new ArrayList<>();
    private static final KvHttpClient http = new KvHttpClient(Duration.ofSeconds(3));
    private static Path runDir;

    @Test
    void acknowledgedWritesSurviveLeaderKillAndMembersCatchUp() throws Exception {
        try {
            scenario();
            deleteRecursively(runDir.resolve("data")); // logs stay under target/ for reading
        } catch (Throwable t) {
            throw new AssertionError(t + "\n" + logTails(), t);
        }
    }

    private void scenario() throws Exception {
        startCluster();

        step("a. all three members agree on a leader");
        ForkedServer leader = awaitAgreedLeader(servers, Duration.ofSeconds(60));
        step("   leader is " + leader);

        step("b. writer starts");
        WriteLoadClient writer = new WriteLoadClient(http, () -> servers, "w/");
        writer.start();
        try {
            await(Duration.ofSeconds(60), "50 acknowledged writes", () -> writer.ackedCount() >= 50);

            step("c. kill -9 the leader " + leader + " after " + writer.ackedCount() + " acknowledged writes");
            int ackedAtKill = writer.ackedCount();
            Instant killedAt = Instant.now();
            leader.kill();

            step("d. a survivor becomes leader within " + FAILOVER + " and writes resume");
            List<ForkedServer> survivors = servers.stream().filter(s -> s != leader).toList();
            ForkedServer newLeader = awaitAgreedLeader(survivors, Duration.ofSeconds(30));
            Duration failover = Duration.between(killedAt, Instant.now());
            step("   new leader " + newLeader + " after " + failover.toMillis() + " ms");
            assertTrue(newLeader != leader, "the killed member cannot be the new leader");
            assertTrue(failover.compareTo(FAILOVER) <= 0,
                    "new leader elected after " + failover.toMillis() + " ms, expected <= " + FAILOVER.toMillis());
            await(Duration.ofSeconds(60), "50 more acknowledged writes after the failover (had " + ackedAtKill + ")",
                    () -> writer.ackedCount() >= ackedAtKill + 50);
        } finally {
            writer.close();
        }
        Set<Integer> acked = writer.acked();
        step("e. writer stopped: " + acked.size() + " acknowledged, " + writer.failures() + " failed attempts");
        List<ForkedServer> survivors = servers.stream().filter(ForkedServer::isAlive).toList();
        for (ForkedServer s : survivors) {
            Map<String, String> kv = await(Duration.ofSeconds(30), "default-consistency read on " + s,
                    () -> http.recurse(s.httpPort, "w/", ""));
            TreeSet<Integer> missing = missing(acked, kv, "w/", WriteLoadClient::value);
            assertEquals(Set.of(), missing, "acknowledged writes missing on " + s + " (default consistency, of "
                    + acked.size() + ")");
        }

        step("f. restart the killed member " + leader + " with its data dir; it catches up");
        leader.start();
        awaitStaleContains(leader, "w/", acked, WriteLoadClient::value, Duration.ofSeconds(60));
        awaitAgreedLeader(servers, Duration.ofSeconds(30));

        step("g. snapshot install: stop a follower, write 500 keys, compact, restart it");
        ForkedServer current = awaitAgreedLeader(servers, Duration.ofSeconds(30));
        ForkedServer follower = servers.stream().filter(s -> s != current).findFirst().orElseThrow();
        long followerLogBefore = follower.logSize();
        follower.stop();
        step("   stopped follower " + follower + " (leader " + current + "); writing 500 keys of 32 KiB");
        Set<Integer> snapKeys = writeParallel(List.of(servers.stream().filter(ForkedServer::isAlive).toArray(
                ForkedServer[]::new)), "s/", 500, ProcessClusterIT::bigValue);
        // The agent has no "take a snapshot now" endpoint (Consul has none either): -snapshot-threshold 200
        // makes the leader snapshot and purge closed log segments while these writes go in.
        follower.start();
        awaitStaleContains(follower, "s/", snapKeys, ProcessClusterIT::bigValue, Duration.ofSeconds(60));
        awaitStaleContains(follower, "w/", acked, WriteLoadClient::value, Duration.ofSeconds(30));
        double installs = http.metric(follower.httpPort, "weft_raft_snapshots_total", "kind=\"installed\"");
        step("   follower snapshot installs (metric): " + installs);
        assertTrue(installs >= 1 || installedSnapshot(follower.logSince(followerLogBefore)),
                "expected the restarted follower " + follower + " to catch up by snapshot install (the leader's"
                        + " log is compacted every " + SNAPSHOT_THRESHOLD + " entries), but neither its metric"
                        + " weft_raft_snapshots_total{kind=\"installed\"} (" + installs + ") nor its log shows one");

        step("   every member has every acknowledged key");
        awaitAgreedLeader(servers, Duration.ofSeconds(30));
        for (ForkedServer s : servers) {
            awaitStaleContains(s, "w/", acked, WriteLoadClient::value, Duration.ofSeconds(30));
            awaitStaleContains(s, "s/", snapKeys, ProcessClusterIT::bigValue, Duration.ofSeconds(30));
        }
        step("done");
    }

    // ---- cluster ----------------------------------------------------------------------------------------

    private static void startCluster() throws IOException {
        Path target = Path.of(System.getProperty("basedir", "."), "target");
        runDir = target.resolve("process-cluster-it").resolve(
                LocalTime.now().toString().replace(':', '-').replace('.', '-'));
        Files.createDirectories(runDir);
        int[] ports = freeLoopbackPorts(6);
        for (int n = 0; n < 3; n++) {
            String name = "n" + (n + 1);
            int httpPort = ports[n];
            int raftPort = ports[3 + n];
            Path dataDir = runDir.resolve("data").resolve(name);
            List<String> args = new ArrayList<>(List.of("agent", "-server", "-bootstrap-expect", "3"));
            for (int m = 0; m < 3; m++) {
                if (m != n) {
                    args.addAll(List.of("-retry-join", "127.0.0.1:" + ports[3 + m]));
                }
            }
            args.addAll(List.of("-node", name, "-bind", "127.0.0.1", "-data-dir", dataDir.toString(),
                    "-http-port", Integer.toString(httpPort), "-raft-port", Integer.toString(raftPort),
                    "-snapshot-threshold", Integer.toString(SNAPSHOT_THRESHOLD)));
            servers.add(new ForkedServer(name, httpPort, raftPort, dataDir, runDir.resolve(name + ".log"), args));
        }
        step("starting " + servers + " in " + runDir);
        for (ForkedServer s : servers) {
            s.start();
        }
    }

    @AfterAll
    static void stopAll() {
        for (ForkedServer s : servers) {
            s.close();
        }
        http.close();
    }

    /** Binds n ephemeral loopback ports at once (so they are distinct), then releases them for the servers. */
    private static int[] freeLoopbackPorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    /** Waits until every given (live) member reports the same leader and that leader is one of them. */
    private static ForkedServer awaitAgreedLeader(List<ForkedServer> members, Duration within) throws Exception {
        return await(within, "agreement on a leader among " + members, () -> {
            String agreed = null;
            for (ForkedServer s : members) {
                if (!s.isAlive()) {
                    throw new AssertionError(s + " exited (code " + s.exitCode() + ") while waiting for a leader");
                }
                String l = http.leader(s.httpPort);
                if (l == null || l.isEmpty() || (agreed != null && !agreed.equals(l))) {
                    return null;
                }
                agreed = l;
            }
            String leader = agreed;
            return members.stream().filter(s -> leader.equals(s.raftAddress())
                    || leader.endsWith(":" + s.raftPort)).findFirst().orElse(null);
        });
    }

    static String bigValue(int i) {
        return "v" + i + "-" + PAD;
    }

    /**
     * Waits until a {@code ?stale} read on {@code s} has every expected key under {@code prefix} with its value:
     * polls the key list (cheap), then compares the values once they are all there.
     */
    private static void awaitStaleContains(ForkedServer s, String prefix, Set<Integer> expected,
                                           IntFunction<String> value, Duration within) throws Exception {
        String[] lastMissing = {""};
        try {
            await(within, "?stale read on " + s + " to contain all " + expected.size() + " keys under " + prefix,
                    () -> {
                        Set<String> keys = http.keys(s.httpPort, prefix, "stale");
                        long absent = expected.stream().filter(i -> !keys.contains(prefix + i)).count();
                        if (absent > 0) {
                            lastMissing[0] = absent + " keys absent";
                            return null;
                        }
                        Map<String, String> kv = http.recurse(s.httpPort, prefix, "stale");
                        TreeSet<Integer> missing = missing(expected, kv, prefix, value);
                        lastMissing[0] = missing.size() + " missing or wrong, e.g. " + missing.stream().limit(10)
                                .toList();
                        return missing.isEmpty() ? Boolean.TRUE : null;
                    });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (" + lastMissing[0] + ")", e);
        }
    }

    private static TreeSet<Integer> missing(Set<Integer> expected, Map<String, String> kv, String prefix,
                                            IntFunction<String> value) {
        TreeSet<Integer> missing = new TreeSet<>();
        for (int i : expected) {
            if (!value.apply(i).equals(kv.get(prefix + i))) {
                missing.add(i);
            }
        }
        return missing;
    }

    /** Writes prefix0..prefix(n-1) with a few concurrent clients, each write retried until acknowledged. */
    private static Set<Integer> writeParallel(List<ForkedServer> via, String prefix, int n, IntFunction<String> value)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                futures.add(pool.submit(() -> {
                    Instant deadline = Instant.now().plusSeconds(60);
                    for (int attempt = 0; Instant.now().isBefore(deadline); attempt++) {
                        ForkedServer m = via.get((k + attempt) % via.size());
                        if (http.put(m.httpPort, prefix + k, value.apply(k))) {
                            return k;
                        }
                        TimeUnit.MILLISECONDS.sleep(20);
                    }
                    throw new AssertionError("write " + prefix + k + " not acknowledged within 60 s");
                }));
            }
            Set<Integer> done = new TreeSet<>();
            for (Future<Integer> f : futures) {
                done.add(f.get(90, TimeUnit.SECONDS));
            }
            return done;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Whether a server's log shows that it received and installed a snapshot from the leader. */
    private static boolean installedSnapshot(String log) {
        String l = log.toLowerCase(java.util.Locale.ROOT);
        return l.contains("installsnapshot") || l.contains("install snapshot") || l.contains("installed snapshot");
    }

    // ---- polling ------------------------------------------------------------------------------------------

    /** Polls {@code probe} until it returns non-null (and not FALSE), failing after {@code within}. */
    private static <T> T await(Duration within, String what, Callable<T> probe) {
        return Poll.until(within, () -> what, probe);
    }

    private static void step(String msg) {
        System.out.println(LocalTime.now() + " ProcessClusterIT " + msg);
    }

    private static String logTails() {
        StringBuilder sb = new StringBuilder();
        for (ForkedServer s : servers) {
            sb.append("\n----- ").append(s).append(" ").append(s.log).append(" (last 40 lines) -----\n")
                    .append(s.tail(40)).append('\n');
        }
        return sb.toString();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
