package dev.weft.chaos.check;

import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import dev.weft.chaos.history.Operation.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A seeded discrete-event simulation of clients doing reads, writes and CASes (on values and on ModifyIndex)
 * against a 3-member cluster (leader s1, followers s2 and s3), recording the history the clients would see.
 *
 * <p>Every operation that takes effect does so at one instant between its invoke and its completion, in the
 * order of those instants, so the history is linearizable by construction, except for what the configuration
 * breaks on purpose: with {@code followerReadsWithoutReadIndex}, reads sent to a follower are answered from
 * the state that follower had applied (the leader's state {@code lag} ticks ago) instead of after a ReadIndex
 * barrier. UNKNOWN writes and CASes take effect later (possibly after the client gave up) or never.
 */
final class RegisterSimulation {

    record Config(int clients, int opsPerClient, int keys, double unknownRate, double failRate,
                  boolean followerReadsWithoutReadIndex, boolean recordFollowerReadsAsStale) {

        static Config correct() {
            return new Config(4, 50, 2, 0.1, 0.05, false, false);
        }

        Config withFollowerReadsWithoutReadIndex(boolean recordAsStale) {
            return new Config(clients, opsPerClient, keys, unknownRate, failRate, true, recordAsStale);
        }
    }

    private static final String[] MEMBERS = {"s1", "s2", "s3"};
    private static final long[] LAG = {0, 40, 90};
    private static final long CLIENT_TIMEOUT = 25;

    private record Version(long time, String value, long index) {
    }

    private record Seen(String value, long index) {
    }

    /** An operation decided by a client, applied at {@code at}. */
    private record Planned(long at, long seq, int client, int member, Kind kind, String key, String value,
                           String expected, Long casIndex, long invoke, long complete, Outcome outcome) {
    }

    private final Config config;
    private final Random random;
    private final List<Operation> history = new ArrayList<>();
    private final Map<String, List<Version>> timelines = new HashMap<>();
    private final List<Map<String, Seen>> lastRead = new ArrayList<>();
    private final int[] issued;
    private final PriorityQueue<Planned> queue = new PriorityQueue<>(
            (a, b) -> a.at() != b.at() ? Long.compare(a.at(), b.at()) : Long.compare(a.seq(), b.seq()));
    private long seq;
    private long index;

    private RegisterSimulation(Config config, long seed) {
        this.config = config;
        this.random = new Random(seed);
        this.issued = new int[config.clients()];
        for (int c = 0; c < config.clients(); c++) {
            lastRead.add(new HashMap<>());
        }
        for (int k = 0; k < config.keys(); k++) {
            timelines.put("k" + k, new ArrayList<>(List.of(new Version(Long.MIN_VALUE, null, 0))));
        }
    }

    static List<Operation> run(Config config, long seed) {
        RegisterSimulation sim = new RegisterSimulation(config, seed);
        for (int c = 0; c < config.clients(); c++) {
            sim.next(c, 0);
        }
        while (!sim.queue.isEmpty()) {
            sim.apply(sim.queue.poll());
        }
        return List.copyOf(sim.history);
    }

    /** Plans client {@code c}'s next operations from time {@code from} until one will answer OK. */
    private void next(int c, long from) {
        long start = from;
        while (issued[c] < config.opsPerClient()) {
            int n = issued[c]++;
            long invoke = start + random.nextInt(4);
            String key = "k" + random.nextInt(config.keys());
            int member = random.nextInt(MEMBERS.length);
            Seen seen = lastRead.get(c).getOrDefault(key, new Seen(null, 0));
            if (random.nextBoolean()) {
                // Half of the CASes start from the latest state (as right after a fresh read), so more apply.
                Version latest = timelines.get(key).get(timelines.get(key).size() - 1);
                seen = new Seen(latest.value(), latest.index());
            }
            double roll = random.nextDouble();
            Kind kind = roll < 0.4 ? Kind.READ : roll < 0.7 ? Kind.WRITE : Kind.CAS;
            String value = kind == Kind.READ ? null : "c" + c + "-" + n;
            String expected = kind == Kind.CAS ? seen.value() : null;
            Long casIndex = kind == Kind.CAS && random.nextBoolean() ? seen.index() : null;

            double fate = random.nextDouble();
            Outcome outcome = fate < config.failRate() ? Outcome.FAIL
                    : fate < config.failRate() + config.unknownRate() ? Outcome.UNKNOWN : Outcome.OK;
            if (outcome == Outcome.OK) {
                long at = invoke + 1 + random.nextInt(10);
                long complete = at + 1 + random.nextInt(10);
                queue.add(new Planned(at, seq++, c, member, kind, key, value, expected, casIndex, invoke, complete,
                        outcome));
                return;
            }
            long complete = outcome == Outcome.FAIL ? invoke + 1 + random.nextInt(5) : invoke + CLIENT_TIMEOUT;
            history.add(new Operation(history.size(), c, MEMBERS[member], kind, key, value, expected, casIndex,
                    null, null, invoke, complete, outcome));
            if (outcome == Outcome.UNKNOWN && kind != Kind.READ && random.nextBoolean()) {
                long at = invoke + 1 + random.nextInt(60);
                queue.add(new Planned(at, seq++, -1, member, kind, key, value, expected, casIndex, invoke, complete,
                        outcome));
            }
            start = complete;
        }
    }

    private void apply(Planned p) {
        List<Version> timeline = timelines.get(p.key());
        Version now = timeline.get(timeline.size() - 1);
        switch (p.kind()) {
            case READ -> {
                boolean follower = p.member() != 0;
                Version v = follower && config.followerReadsWithoutReadIndex()
                        ? versionAt(timeline, p.at() - LAG[p.member()]) : now;
                Kind kind = follower && config.recordFollowerReadsAsStale() ? Kind.STALE_READ : Kind.READ;
                record(p, kind, v.value(), v.value() == null ? null : v.index(), null);
                lastRead.get(p.client()).put(p.key(), new Seen(v.value(), v.index()));
            }
            case WRITE -> {
                put(timeline, p);
                record(p, Kind.WRITE, p.value(), null, null);
            }
            case CAS -> {
                boolean matches = p.casIndex() != null ? now.index() == p.casIndex()
                        : Objects.equals(now.value(), p.expected());
                if (matches) {
                    put(timeline, p);
                }
                record(p, Kind.CAS, p.value(), p.casIndex(), matches);
            }
            default -> throw new IllegalStateException(p.toString());
        }
    }

    private void put(List<Version> timeline, Planned p) {
        index += 1 + random.nextInt(2);
        timeline.add(new Version(p.at(), p.value(), index));
    }

    private void record(Planned p, Kind kind, String value, Long modifyIndex, Boolean applied) {
        if (p.client() < 0) {
            return; // the late effect of an UNKNOWN operation, already recorded
        }
        history.add(new Operation(history.size(), p.client(), MEMBERS[p.member()], kind, p.key(), value,
                p.expected(), modifyIndex, applied, null, p.invoke(), p.complete(), Outcome.OK));
        next(p.client(), p.complete());
    }

    private static Version versionAt(List<Version> timeline, long time) {
        Version v = timeline.get(0);
        for (Version candidate : timeline) {
            if (candidate.time() <= time) {
                v = candidate;
            }
        }
        return v;
    }
}
