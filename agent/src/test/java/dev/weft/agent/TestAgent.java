package dev.weft.agent;

import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.testing.Poll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/** A real single-server agent (Raft + HTTP) on ephemeral loopback ports with a temporary data dir. */
public final class TestAgent implements AutoCloseable {
    private final Path dir;
    private final AgentServer agent;

    private TestAgent(Path dir, AgentServer agent) {
        this.dir = dir;
        this.agent = agent;
    }

    public static TestAgent start(String nodeName) throws Exception {
        return start(nodeName, Files.createTempDirectory("weft-agent-test-"), c -> c);
    }

    /** An agent with its configuration adjusted by {@code tweak}, on {@code dir} (kept across restarts). */
    public static TestAgent start(String nodeName, Path dir, UnaryOperator<AgentConfig> tweak) throws Exception {
        return start(nodeName, dir, tweak, AclConfig.DISABLED);
    }

    /** A single server enforcing ACLs as {@code acl} says. */
    public static TestAgent startWithAcl(String nodeName, AclConfig acl) throws Exception {
        return start(nodeName, Files.createTempDirectory("weft-agent-test-"), c -> c, acl);
    }

    private static TestAgent start(String nodeName, Path dir, UnaryOperator<AgentConfig> tweak, AclConfig acl)
            throws Exception {
        AgentConfig base = AgentConfig.defaults(nodeName, dir).withEphemeralPorts();
        // Never pick up a Docker daemon of the machine; tests that want the registrator turn it on.
        base = base.withDiscovery(base.discovery().withRegistrator(RegistratorSettings.off()));
        AgentConfig cfg = tweak.apply(base);
        AgentServer agent = AgentServer.start(cfg, OverlaySettings.off(), acl);
        TestAgent t = new TestAgent(dir, agent);
        awaitTrue("leader elected", Duration.ofSeconds(30), () -> agent.status().isLeader());
        return t;
    }

    /** A client agent (no vote) following {@code serverHttpAddr}; returns once it knows the leader. */
    public static TestAgent startClient(String nodeName, String serverHttpAddr) throws Exception {
        return startClient(nodeName, serverHttpAddr, AclConfig.DISABLED);
    }

    /** A client agent enforcing ACLs as {@code acl} says (its agent token also reads the servers' feed). */
    public static TestAgent startClient(String nodeName, String serverHttpAddr, AclConfig acl) throws Exception {
        Path dir = Files.createTempDirectory("weft-client-test-");
        AgentConfig base = AgentConfig.defaults(nodeName, dir).withEphemeralPorts().withServer(false)
                .withCluster(0, java.util.List.of(serverHttpAddr));
        base = base.withDiscovery(base.discovery().withRegistrator(RegistratorSettings.off()));
        AgentServer agent = AgentServer.start(base, OverlaySettings.off(), acl);
        TestAgent t = new TestAgent(dir, agent);
        awaitTrue("client knowing the leader", Duration.ofSeconds(30), () -> agent.status().knownLeader());
        return t;
    }

    public Path dataDir() {
        return dir;
    }

    /** Stops the agent as a crash would (no leave), keeping the data dir for a restart. */
    public void crashKeepData() {
        agent.close(false);
    }

    public AgentServer agent() {
        return agent;
    }

    /** host:port of the HTTP API. */
    public String httpAddr() {
        return agent.httpAddr();
    }

    public String baseUrl() {
        return "http://" + agent.httpAddr();
    }

    /** Current value of a gauge in the agent's registry, or -1 when absent. */
    public double gauge(String name) {
        var g = agent.registry().find(name).gauge();
        return g == null ? -1 : g.value();
    }

    @Override
    public void close() throws IOException {
        try {
            agent.close(); // idempotent after crashKeepData()
        } finally {
            deleteDir(dir);
        }
    }

    /** Removes a data dir (tests that restart an agent on one dir call this in a finally). */
    public static void deleteDir(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Polls {@code condition} until it holds or the deadline passes (then fails with {@code what}). */
    public static void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
        Poll.until(timeout, () -> what, condition::getAsBoolean);
    }
}
