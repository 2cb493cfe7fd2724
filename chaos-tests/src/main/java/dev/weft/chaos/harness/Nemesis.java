package dev.weft.chaos.harness;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.model.ToxicDirection;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Injects faults one after another from a seeded, shuffled deck (every fault once per pass of the deck), each
 * for a few seconds, heals it, measures how long writes take to work again through every member, and pauses
 * before the next.
 */
final class Nemesis {
    /** Every fault once per pass, in an order shuffled per pass by a seeded generator. Shared across runs. */
    static final class Deck {
        private final Random random;
        private final List<Fault> kinds;
        private final List<Fault> pass = new ArrayList<>();

        Deck(long seed) {
            this(seed, List.of(Fault.values()));
        }

        /** A deck of only these kinds (to reproduce one problem). */
        Deck(long seed, List<Fault> kinds) {
            if (kinds.isEmpty()) {
                throw new IllegalArgumentException("no faults");
            }
            this.random = new Random(seed);
            this.kinds = List.copyOf(kinds);
        }

        synchronized Fault next() {
            if (pass.isEmpty()) {
                pass.addAll(kinds);
                Collections.shuffle(pass, random);
            }
            return pass.remove(0);
        }
    }

    /**
     * What one fault did. {@code recoveryMillis}: heal (after a restart: once the restarted members answer HTTP)
     * to writes working through every member;
     * {@code readRecoveryMillis}: to {@code ?consistent} reads working through every member; -1 = never.
     */
    record Applied(Fault fault, String detail, long startMillis, long heldMillis, long recoveryMillis,
                   long readRecoveryMillis, boolean snapshotInstalled) {
    }

    /**
     * How long a restarted member may take to answer HTTP. Recovery is timed from then; see
     * {@link Cluster#awaitUp}.
     */
    static final Duration START_WITHIN = Duration.ofSeconds(120);

    private final Cluster cluster;
    private final Workloads workloads;
    private final EventLog events;
    private final Deck deck;
    private final Random random;
    private final List<Applied> applied = new ArrayList<>();

    Nemesis(Cluster cluster, Workloads workloads, EventLog events, Deck deck, long seed) {
        this.cluster = cluster;
        this.workloads = workloads;
        this.events = events;
        this.deck = deck;
        this.random = new Random(seed);
    }

    List<Applied> applied() {
        return List.copyOf(applied);
    }

    /** Runs faults until {@code duration} has passed (the last one is finished, not cut short). */
    void run(Duration duration) throws IOException {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end) {
            Fault f = deck.next();
            applied.add(apply(f));
            if (!Pause.millis(1500 + random.nextInt(1500))) {
                return;
            }
        }
    }

    private long holdMillis() {
        return 3000 + random.nextInt(3000);
    }

    private Applied apply(Fault f) throws IOException {
        long start = events.millisSinceStart();
        List<Member> members = cluster.members();
        int n = members.size();
        Member leader = leaderOrAny();
        long hold = holdMillis();
        String detail;
        boolean installed = false;
        switch (f) {
            case ISOLATE_LEADER -> {
                detail = "isolate " + leader.name;
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                workloads.minority.add(leader.name);
                cluster.isolate(leader);
                Pause.millis(hold);
            }
            case SPLIT -> {
                List<Member> shuffled = new ArrayList<>(members);
                Collections.shuffle(shuffled, random);
                List<Member> minority = shuffled.subList(0, (n - 1) / 2);
                List<Member> majority = shuffled.subList((n - 1) / 2, n);
                detail = names(minority) + " | " + names(majority);
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                minority.forEach(m -> workloads.minority.add(m.name));
                cluster.partition(minority, majority);
                Pause.millis(hold);
            }
            case ONE_WAY -> {
                detail = leader.name + " cannot send to anyone";
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                for (Member m : members) {
                    if (m != leader) {
                        cluster.cutOneWay(leader, m);
                    }
                }
                Pause.millis(hold);
            }
            case LATENCY -> {
                long latency = 200 + random.nextInt(801);
                long jitter = latency / 4;
                detail = latency + " ms ± " + jitter + " ms on every link";
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                for (Proxy p : cluster.links()) {
                    p.toxics().latency("latency", ToxicDirection.DOWNSTREAM, latency).setJitter(jitter);
                }
                Pause.millis(hold);
            }
            case BANDWIDTH -> {
                long kbps = 16 + random.nextInt(49);
                detail = kbps + " KB/s each way on every link";
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                for (Proxy p : cluster.links()) {
                    p.toxics().bandwidth("bw-down", ToxicDirection.DOWNSTREAM, kbps);
                    p.toxics().bandwidth("bw-up", ToxicDirection.UPSTREAM, kbps);
                }
                Pause.millis(hold);
            }
            case RESET_PEER -> {
                Member victim = members.get(random.nextInt(n));
                long after = 200 + random.nextInt(1800);
                detail = "connections of " + victim.name + " reset after " + after + " ms";
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                for (Proxy p : cluster.linksOf(victim)) {
                    p.toxics().resetPeer("reset", ToxicDirection.UPSTREAM, after);
                }
                Pause.millis(hold);
            }
            case SLOW_CLOSE -> {
                Member victim = members.get(random.nextInt(n));
                long delay = 1000 + random.nextInt(2000);
                detail = "closes delayed " + delay + " ms; " + victim.name + " cut off for 1 s";
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                for (Proxy p : cluster.links()) {
                    p.toxics().slowClose("slow-close", ToxicDirection.DOWNSTREAM, delay);
                }
                workloads.minority.add(victim.name);
                cluster.isolate(victim);
                Pause.millis(1000);
                for (Proxy p : cluster.linksOf(victim)) {
                    p.enable();
                }
                workloads.minority.remove(victim.name);
                Pause.millis(Math.max(0, hold - 1000));
            }
            case TIMEOUT -> {
                Member victim = members.get(random.nextInt(n));
                detail = "links of " + victim.name + " carry nothing (no close)";
                events.log("nemesis", f + ": " + detail + " for " + hold + " ms");
                workloads.minority.add(victim.name);
                for (Proxy p : cluster.linksOf(victim)) {
                    p.toxics().timeout("blackhole-down", ToxicDirection.DOWNSTREAM, 0);
                    p.toxics().timeout("blackhole-up", ToxicDirection.UPSTREAM, 0);
                }
                Pause.millis(hold);
            }
            case KILL -> {
                Member victim = members.get(random.nextInt(n));
                detail = "kill -9 " + victim.name;
                events.log("nemesis", f + ": " + detail + ", down for " + hold + " ms");
                cluster.kill(victim);
                Pause.millis(hold);
                cluster.restart(victim);
                detail += " (answering " + cluster.awaitUp(victim, START_WITHIN) + " ms after its start)";
            }
            case KILL_MAJORITY -> {
                List<Member> shuffled = new ArrayList<>(members);
                Collections.shuffle(shuffled, random);
                List<Member> victims = shuffled.subList(0, n / 2 + 1);
                detail = "kill -9 " + names(victims);
                events.log("nemesis", f + ": " + detail + ", down for " + hold + " ms");
                victims.forEach(cluster::kill);
                Pause.millis(hold);
                long started = System.nanoTime();
                for (Member v : victims) {
                    cluster.restart(v);
                }
                for (Member v : victims) {
                    cluster.awaitUp(v, START_WITHIN);
                }
                detail += " (all answering " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                        + " ms after their start)";
            }
            case ROLLING_RESTART -> {
                detail = "clean restart of " + names(members) + " one by one";
                events.log("nemesis", f + ": " + detail);
                for (Member m : members) {
                    events.log("process", "stop " + m.name);
                    m.stop();
                    cluster.restart(m);
                    cluster.awaitUp(m, START_WITHIN);
                    Deadline.poll(Duration.ofSeconds(60), m.name + " back with a leader",
                            () -> cluster.leaderSeenBy(m));
                }
                hold = 0;
            }
            case SNAPSHOT_INSTALL -> {
                Member victim = members.stream().filter(m -> m != leader).findFirst().orElse(leader);
                detail = victim.name + " killed while the log moves past a snapshot, back under 50 ms latency";
                events.log("nemesis", f + ": " + detail);
                cluster.kill(victim);
                int written = fill(cluster, victim);
                for (Proxy p : cluster.links()) {
                    p.toxics().latency("latency", ToxicDirection.DOWNSTREAM, 50).setJitter(10);
                }
                cluster.restart(victim);
                cluster.awaitUp(victim, START_WITHIN);
                try {
                    Deadline.poll(Duration.ofSeconds(60), victim.name + " installing a snapshot", () -> {
                        try {
                            // a fresh process: its counter starts at 0
                            return installedSnapshots(victim) >= 1 ? Boolean.TRUE : null;
                        } catch (IOException notUpYet) {
                            return null;
                        }
                    });
                    installed = true;
                } catch (IOException e) {
                    events.log("nemesis", "SNAPSHOT_INSTALL: " + e.getMessage());
                }
                detail += " (" + written + " entries written while it was down; installed: " + installed + ")";
                hold = 0;
            }
            default -> throw new IllegalStateException("unhandled fault " + f);
        }
        long healAt = events.millisSinceStart();
        cluster.heal();
        workloads.minority.clear();
        events.log("nemesis", f + ": healed");
        Recovery recovery = awaitWrites(Duration.ofSeconds(60));
        events.log("nemesis", f + ": writes work through every member " + recovery.writesMillis()
                + " ms after the heal, consistent reads " + recovery.readsMillis() + " ms");
        return new Applied(f, detail, start, healAt - start, recovery.writesMillis(), recovery.readsMillis(),
                installed);
    }

    private double installedSnapshots(Member m) throws IOException {
        return cluster.metric(m, "weft_raft_snapshots_total", "kind=\"installed\"");
    }

    /** Enough writes through the live members' leader for a snapshot and a purged log segment. */
    private static int fill(Cluster cluster, Member down) throws IOException {
        Member leader = cluster.awaitAgreedLeader(Duration.ofSeconds(30));
        int target = 3_000;
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> futures = new ArrayList<>();
            String value = "f".repeat(64);
            for (int t = 0; t < 16; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    Http http = new Http(Duration.ofSeconds(5));
                    for (int i = thread; i < target; i += 16) {
                        try {
                            if (http.put(leader.httpPort, "/v1/kv/fill/" + (i % 500), value).ok()) {
                                done.incrementAndGet();
                            }
                        } catch (IOException e) {
                            // counted as not done
                        }
                    }
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (Exception e) {
                    throw new IOException("filling the log while " + down.name + " is down: " + e, e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return done.get();
    }

    /** Recovery after a heal: milliseconds until writes, and then {@code ?consistent} reads, work through every
     * member (-1: not within the deadline). */
    record Recovery(long writesMillis, long readsMillis) {
    }

    /**
     * Tries a write through every member's client proxy until one succeeds, then a {@code ?consistent} read
     * until one succeeds (members in parallel, each retried every 20 ms). A write through a member that was cut
     * off needs only the leader; its consistent read also needs it to catch up (possibly by snapshot install).
     */
    Recovery awaitWrites(Duration within) {
        long start = System.nanoTime();
        List<Member> members = cluster.members();
        long[] wrote = new long[members.size()];
        long[] read = new long[members.size()];
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            Member m = members.get(i);
            int slot = i;
            Thread t = new Thread(() -> {
                Http http = new Http(Duration.ofMillis(1000));
                long end = start + within.toNanos();
                while (System.nanoTime() < end && read[slot] == 0) {
                    try {
                        if (m.isAlive()) {
                            if (wrote[slot] == 0 && http.put(cluster.clientPort(m), "/v1/kv/probe/" + m.name, "x")
                                    .ok()) {
                                wrote[slot] = System.nanoTime();
                            }
                            if (wrote[slot] != 0 && http.get(cluster.clientPort(m), "/v1/kv/probe/" + m.name
                                    + "?consistent").ok()) {
                                read[slot] = System.nanoTime();
                            }
                        }
                    } catch (IOException e) {
                        // not yet
                    }
                    if (read[slot] == 0 && !Pause.millis(20)) {
                        return;
                    }
                }
            }, "chaos-recovery-" + m.name);
            threads.add(t);
            t.start();
        }
        StringBuilder perMember = new StringBuilder();
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Recovery(-1, -1);
            }
        }
        long writes = 0;
        long reads = 0;
        for (int i = 0; i < members.size(); i++) {
            perMember.append(' ').append(members.get(i).name).append('=').append(since(start, wrote[i]))
                    .append('/').append(since(start, read[i]));
            writes = wrote[i] == 0 || writes < 0 ? -1 : Math.max(writes, wrote[i] - start);
            reads = read[i] == 0 || reads < 0 ? -1 : Math.max(reads, read[i] - start);
        }
        events.log("nemesis", "first write/consistent read through each member:" + perMember);
        return new Recovery(writes < 0 ? -1 : Duration.ofNanos(writes).toMillis(),
                reads < 0 ? -1 : Duration.ofNanos(reads).toMillis());
    }

    private static String since(long start, long at) {
        return at == 0 ? "never" : Duration.ofNanos(at - start).toMillis() + "ms";
    }

    private Member leaderOrAny() {
        Member l = cluster.agreedLeader();
        if (l != null) {
            return l;
        }
        for (Member m : cluster.members()) {
            Member seen = cluster.leaderSeenBy(m);
            if (seen != null) {
                return seen;
            }
        }
        return cluster.members().get(random.nextInt(cluster.members().size()));
    }

    private static String names(List<Member> ms) {
        return ms.stream().map(Member::name).toList().toString();
    }
}
