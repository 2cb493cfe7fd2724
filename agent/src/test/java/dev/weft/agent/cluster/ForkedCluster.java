package dev.weft.agent.cluster;

import dev.weft.kvstore.testing.Poll;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Servers as separate JVMs on 127.0.0.1 that bootstrap one Raft cluster: {@code n1..nN}, each with its own
 * HTTP, Raft and DNS port, data dir under {@code target/<test>/<run>/data} and log {@code <run>/nK.log}.
 */
final class ForkedCluster implements AutoCloseable {
    final Path runDir;
    final List<ForkedServer> servers = new ArrayList<>();
    final KvHttpClient http = new KvHttpClient(Duration.ofSeconds(3));
    private final String testName;

    /** Ports of one member. */
    record Ports(int http, int raft, int dns) {
    }

    private ForkedCluster(String testName, Path runDir) {
        this.testName = testName;
        this.runDir = runDir;
    }

    /**
     * Starts {@code n} servers with {@code -bootstrap-expect n}; {@code extra} adds flags per member (by its
     * ports). DNS listens on its own port for every member.
     */
    static ForkedCluster start(String testName, int n, Function<Ports, List<String>> extra) throws IOException {
        Path target = Path.of(System.getProperty("basedir", "."), "target");
        Path runDir = target.resolve(testName).resolve(
                LocalTime.now().toString().replace(':', '-').replace('.', '-'));
        Files.createDirectories(runDir);
        ForkedCluster c = new ForkedCluster(testName, runDir);
        int[] ports = freeLoopbackPorts(3 * n);
        for (int i = 0; i < n; i++) {
            String name = "n" + (i + 1);
            Ports p = new Ports(ports[i], ports[n + i], ports[2 * n + i]);
            Path dataDir = runDir.resolve("data").resolve(name);
            List<String> args = new ArrayList<>(List.of("agent", "-server", "-bootstrap-expect",
                    Integer.toString(n)));
            for (int m = 0; m < n; m++) {
                if (m != i) {
                    args.addAll(List.of("-retry-join", "127.0.0.1:" + ports[n + m]));
                }
            }
            args.addAll(List.of("-node", name, "-bind", "127.0.0.1", "-data-dir", dataDir.toString(),
                    "-http-port", Integer.toString(p.http()), "-raft-port", Integer.toString(p.raft()),
                    "-dns-port", Integer.toString(p.dns()), "-registrator=false"));
            args.addAll(extra.apply(p));
            c.servers.add(new ForkedServer(name, p.http(), p.raft(), p.dns(), dataDir,
                    runDir.resolve(name + ".log"), args));
        }
        c.step("starting " + c.servers + " in " + runDir);
        for (ForkedServer s : c.servers) {
            s.start();
        }
        return c;
    }

    /** Binds n ephemeral loopback ports at once (TCP and UDP free, distinct), then releases them. */
    static int[] freeLoopbackPorts(int n) throws IOException {
        List<AutoCloseable> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            int i = 0;
            while (i < n) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(s);
                try {
                    DatagramSocket d = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                            s.getLocalPort()));
                    sockets.add(d);
                } catch (IOException busyUdp) {
                    continue;
                }
                ports[i++] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (AutoCloseable s : sockets) {
                try {
                    s.close();
                } catch (Exception ignored) {
                    // closing a probe socket
                }
            }
        }
    }

    /** Waits until every given member names the same leader, and returns it. */
    ForkedServer awaitAgreedLeader(List<ForkedServer> members, Duration within) {
        return Poll.until(within, () -> "agreement on a leader among " + members, () -> {
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

    void step(String msg) {
        System.out.println(LocalTime.now() + " " + testName + " " + msg);
    }

    String logTails() {
        StringBuilder sb = new StringBuilder();
        for (ForkedServer s : servers) {
            sb.append("\n----- ").append(s).append(" ").append(s.log).append(" (last 40 lines) -----\n")
                    .append(s.tail(40)).append('\n');
        }
        return sb.toString();
    }

    /** Removes the data dirs (logs stay under target/ for reading). */
    void deleteData() throws IOException {
        Path dir = runDir.resolve("data");
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public void close() {
        for (ForkedServer s : servers) {
            s.close();
        }
        http.close();
    }
}
