package dev.weft.chaos.harness;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.model.Toxic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A weft cluster of n servers (separate JVMs on loopback) whose every Raft link runs through its own Toxiproxy
 * proxy: the link from member a to member b listens on {@code 127.1.a.b:<b's Raft port>} and forwards to b. A
 * member's hosts file maps each peer's name to the proxy of its link to that peer, so cutting one proxy cuts
 * exactly one direction of one pair (gRPC answers travel on the caller's connection, so cutting a→b stops
 * a's requests to b and their answers; b's requests to a still pass). HTTP clients reach member b through the
 * proxy {@code client>nb} on its own loopback port.
 */
public final class Cluster implements AutoCloseable {
    /** Knobs of the forked members. */
    public record Settings(long snapshotThreshold, long logSegmentBytes, List<String> jvmArgs) {
        public static final Settings DEFAULT = new Settings(2_000, 128 * 1024, List.of("-Xmx192m"));

        public Settings {
            jvmArgs = List.copyOf(jvmArgs);
        }

        public Settings withJvmArgs(List<String> args) {
            return new Settings(snapshotThreshold, logSegmentBytes, args);
        }
    }

    private final Toxiproxy toxiproxy;
    private final List<Member> members = new ArrayList<>();
    private final Map<String, Proxy> links = new LinkedHashMap<>();
    private final Map<String, Proxy> clientProxies = new LinkedHashMap<>();
    private final Map<String, Integer> clientPorts = new HashMap<>();
    private final Http http = new Http(Duration.ofSeconds(2));
    private final Path runDir;
    private final EventLog events;

    private Cluster(Toxiproxy toxiproxy, Path runDir, EventLog events) {
        this.toxiproxy = toxiproxy;
        this.runDir = runDir;
        this.events = events;
    }

    public static Cluster start(Toxiproxy toxiproxy, Path runDir, int n, Path weftJar, Settings settings,
                                EventLog events) throws IOException {
        if (n < 1 || n > 9) {
            throw new IllegalArgumentException("1 to 9 members, got " + n);
        }
        Files.createDirectories(runDir);
        Cluster c = new Cluster(toxiproxy, runDir, events);
        int[] ports = Ports.freeLoopbackPorts(4 * n);
        for (int i = 1; i <= n; i++) {
            int raft = ports[i - 1];
            int httpPort = ports[n + i - 1];
            int dns = ports[2 * n + i - 1];
            List<String> args = new ArrayList<>(List.of("agent", "-server", "-bootstrap-expect", Integer.toString(n)));
            for (int j = 1; j <= n; j++) {
                if (j != i) {
                    args.addAll(List.of("-retry-join", "n" + j + ".chaos:" + ports[j - 1]));
                }
            }
            args.addAll(List.of("-node", "n" + i, "-bind", "n" + i + ".chaos",
                    "-data-dir", runDir.resolve("data").resolve("n" + i).toString(),
                    "-http-port", Integer.toString(httpPort), "-raft-port", Integer.toString(raft),
                    "-dns-port", Integer.toString(dns), "-registrator=false",
                    "-snapshot-threshold", Long.toString(settings.snapshotThreshold()),
                    "-raft-log-segment-size", Long.toString(settings.logSegmentBytes())));
            c.members.add(new Member(i, raft, httpPort, dns, runDir, weftJar, args).jvmArgs(settings.jvmArgs()));
        }
        for (Member a : c.members) {
            StringBuilder hosts = new StringBuilder("127.0.0.1 localhost\n");
            for (Member b : c.members) {
                hosts.append(a == b ? "127.0.0.1" : linkAddress(a, b)).append(' ').append(b.host).append('\n');
                if (a != b) {
                    String name = a.name + ">" + b.name;
                    c.links.put(name, toxiproxy.client().createProxy(name, linkAddress(a, b) + ":" + b.raftPort,
                            "127.0.0.1:" + b.raftPort));
                }
            }
            Files.writeString(a.hostsFile, hosts.toString());
        }
        for (int i = 0; i < n; i++) {
            Member m = c.members.get(i);
            int port = ports[3 * n + i];
            c.clientProxies.put(m.name, toxiproxy.client().createProxy("client>" + m.name, "127.0.0.1:" + port,
                    "127.0.0.1:" + m.httpPort));
            c.clientPorts.put(m.name, port);
        }
        events.log("cluster", "starting " + c.members + " in " + runDir);
        for (Member m : c.members) {
            m.start();
        }
        return c;
    }

    private static String linkAddress(Member from, Member to) {
        return "127.1." + from.index + "." + to.index;
    }

    public List<Member> members() {
        return List.copyOf(members);
    }

    public Member member(String name) {
        return members.stream().filter(m -> m.name.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no member " + name));
    }

    public Path runDir() {
        return runDir;
    }

    /** The loopback port through which HTTP clients reach {@code m}. */
    public int clientPort(Member m) {
        return clientPorts.get(m.name);
    }

    Http http() {
        return http;
    }

    // ---- leadership -------------------------------------------------------------------------------------

    /** The member that every live member names as leader, or null when they do not agree (or none is known). */
    public Member agreedLeader() {
        String agreed = null;
        int answered = 0;
        for (Member m : members) {
            if (!m.isAlive()) {
                continue;
            }
            String leader;
            try {
                Http.Response r = http.get(m.httpPort, "/v1/status/leader");
                if (!r.ok()) {
                    return null;
                }
                leader = r.body().replace("\"", "").trim();
            } catch (IOException e) {
                return null;
            }
            if (leader.isEmpty() || (agreed != null && !agreed.equals(leader))) {
                return null;
            }
            agreed = leader;
            answered++;
        }
        if (agreed == null || answered == 0) {
            return null;
        }
        String l = agreed;
        return members.stream().filter(m -> m.raftAddress().equals(l)).findFirst().orElse(null);
    }

    public Member awaitAgreedLeader(Duration within) throws IOException {
        return Deadline.poll(within, "all live members agreeing on a leader", this::agreedLeader);
    }

    /** Whatever member {@code m} currently believes is the leader (null when none or unreachable). */
    public Member leaderSeenBy(Member m) {
        try {
            Http.Response r = http.get(m.httpPort, "/v1/status/leader");
            String l = r.ok() ? r.body().replace("\"", "").trim() : "";
            return members.stream().filter(x -> x.raftAddress().equals(l)).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    // ---- network faults ---------------------------------------------------------------------------------

    /** Cuts the link from {@code from} to {@code to} only. */
    public void cutOneWay(Member from, Member to) throws IOException {
        links.get(from.name + ">" + to.name).disable();
    }

    /** Cuts every link between the two sides, both directions. */
    public void partition(Collection<Member> side, Collection<Member> other) throws IOException {
        for (Member a : side) {
            for (Member b : other) {
                if (a != b) {
                    cutOneWay(a, b);
                    cutOneWay(b, a);
                }
            }
        }
    }

    /** Cuts {@code m} off from every other member (both directions); its HTTP clients still reach it. */
    public void isolate(Member m) throws IOException {
        partition(Set.of(m), members.stream().filter(x -> x != m).collect(Collectors.toList()));
    }

    /** Every link proxy, for toxics. */
    public Collection<Proxy> links() {
        return links.values();
    }

    /** Link proxies touching {@code m} (to and from it). */
    public List<Proxy> linksOf(Member m) {
        List<Proxy> out = new ArrayList<>();
        links.forEach((name, p) -> {
            if (name.startsWith(m.name + ">") || name.endsWith(">" + m.name)) {
                out.add(p);
            }
        });
        return out;
    }

    /** Enables every proxy and removes every toxic. */
    public void heal() throws IOException {
        for (Proxy p : links.values()) {
            healProxy(p);
        }
        for (Proxy p : clientProxies.values()) {
            healProxy(p);
        }
    }

    private static void healProxy(Proxy p) throws IOException {
        for (Toxic t : p.toxics().getAll()) {
            t.remove();
        }
        p.enable();
    }

    // ---- processes ----------------------------------------------------------------------------------------

    public void kill(Member m) {
        events.log("process", "kill -9 " + m);
        m.kill();
    }

    public void restart(Member m) throws IOException {
        events.log("process", "start " + m.name);
        m.start();
    }

    /**
     * Waits until a member started by {@link #restart} answers HTTP (with or without a leader), and returns how
     * long that took (since its start, when called right after {@link #restart}). Fails at once when the process
     * exits, with the end of its log. The fault's recovery is timed from here: a JVM that starts in under 2 s on an idle machine takes 5-25 s among four
     * busy members and the workload on 2 cores, and that is not the cluster's recovery.
     */
    public long awaitUp(Member m, Duration within) throws IOException {
        long t0 = System.nanoTime();
        Deadline.poll(within, m.name + "'s HTTP API answering after its start", () -> {
            if (!m.isAlive()) {
                throw new IOException(m.name + " exited after its start; the end of its log:\n"
                        + String.join("\n", m.logTail(40, l -> true)));
            }
            try {
                return http.get(m.httpPort, "/v1/status/leader").status() == 200 ? Boolean.TRUE : null;
            } catch (IOException notYet) {
                return null;
            }
        });
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        events.log("process", m.name + " answers HTTP (waited " + ms + " ms)");
        return ms;
    }

    /** Reads one counter of the member's Prometheus metrics (sum over series matching the label text). */
    public double metric(Member m, String name, String labelText) throws IOException {
        Http.Response r = http.get(m.httpPort, "/v1/agent/metrics?format=prometheus");
        if (!r.ok()) {
            throw new IOException("metrics of " + m.name + ": HTTP " + r.status());
        }
        double sum = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name) && (labelText == null || line.contains(labelText))) {
                String[] parts = line.trim().split("\\s+");
                sum += Double.parseDouble(parts[parts.length - 1]);
            }
        }
        return sum;
    }

    @Override
    public void close() {
        for (Member m : members) {
            m.kill();
        }
        for (Proxy p : links.values()) {
            deleteQuietly(p);
        }
        for (Proxy p : clientProxies.values()) {
            deleteQuietly(p);
        }
    }

    private static void deleteQuietly(Proxy p) {
        try {
            p.delete();
        } catch (IOException ignored) {
            // the Toxiproxy server is going away with the run
        }
    }
}
