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

    private static ForkedCluster cluster;
    private static List<ForkedServer> servers;
    private static KvHttpClient http;

    @Test
    void acknowledgedWritesSurviveLeaderKillAndMembersCatchUp() throws Exception {
        try {
            scenario();
            cluster.deleteData(); // logs stay under target/ for reading
        } catch (Throwable t) {
            throw new AssertionError(t + "\n" + cluster.logTails(), t);
        }
    }

    private void scenario() throws Exception {
        startCluster();

        step("a. all three members agree on a leader");
        ForkedServer leader = cluster.awaitAgreedLeader(servers, Duration.ofSeconds(60));
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
            ForkedServer newLeader = cluster.awaitAgreedLeader(survivors, Duration.ofSeconds(30));
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
        cluster.awaitAgreedLeader(servers, Duration.ofSeconds(30));

        step("g. snapshot install: stop a follower, write 500 keys, compact, restart it");
        ForkedServer current = cluster.awaitAgreedLeader(servers, Duration.ofSeconds(30));
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
        cluster.awaitAgreedLeader(servers, Duration.ofSeconds(30));
        for (ForkedServer s : servers) {
            awaitStaleContains(s, "w/", acked, WriteLoadClient::value, Duration.ofSeconds(30));
            awaitStaleContains(s, "s/", snapKeys, ProcessClusterIT::bigValue, Duration.ofSeconds(30));
        }
        step("done");
    }

    // ---- cluster ----------------------------------------------------------------------------------------

    private static void startCluster() throws IOException {
        cluster = ForkedCluster.start("process-cluster-it", 3,
                p -> List.of("-snapshot-threshold", Integer.toString(SNAPSHOT_THRESHOLD)));
        servers = cluster.servers;
        http = cluster.http;
    }


    @AfterAll
    static void stopAll() {
        if (cluster != null) {
            cluster.close();
        }
    }


    /** Waits until every given (live) member reports the same leader and that leader is one of them. */
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

}
