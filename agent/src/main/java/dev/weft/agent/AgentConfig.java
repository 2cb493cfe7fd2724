package dev.weft.agent;

import dev.weft.kvstore.raft.RaftConfig;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Typed configuration of one agent, with every default in {@link #defaults}. The Raft part is derived by
 * {@link #raftConfig()}.
 *
 * @param nodeName          node name (Consul's -node); defaults to the host name
 * @param datacenter        datacenter (Consul's -datacenter), default "dc1"
 * @param server            whether this agent is a Raft server; a client agent follows the servers' feed
 * @param dev               -dev mode: one server, temporary data dir, loopback only
 * @param bootstrapExpect   servers expected to form the initial cluster; 0 = join an existing cluster
 * @param retryJoin         Raft addresses (host:port) of other servers; on a client, servers' HTTP addresses
 * @param bindAddr          address Raft listens on and advertises, default 127.0.0.1
 * @param clientAddr        address the HTTP API listens on, default 127.0.0.1
 * @param httpPort          HTTP API port, default 8500 (0 = ephemeral)
 * @param raftPort          Raft port, default 8300 (0 = ephemeral, kept in the data dir)
 * @param dataDir           Raft log, snapshots and the member's identity
 * @param snapshotThreshold take a Raft snapshot every this many applied entries
 * @param logSegmentBytes   size at which a Raft log segment is closed (only closed segments are purged after a
 *                          snapshot)
 * @param electionMin       lower bound of the Raft election timeout
 * @param electionMax       upper bound of the Raft election timeout
 * @param requestTimeout    how long a write or read barrier waits for a leader before "No cluster leader"
 * @param discovery         catalog, health-check and DNS settings
 */
public record AgentConfig(String nodeName, String datacenter, boolean server, boolean dev, int bootstrapExpect,
                          List<String> retryJoin, String bindAddr, String clientAddr, int httpPort, int raftPort,
                          Path dataDir, long snapshotThreshold, long logSegmentBytes, Duration electionMin,
                          Duration electionMax, Duration requestTimeout, DiscoveryConfig discovery) {

    public static final String DEFAULT_DATACENTER = "dc1";
    public static final String LOOPBACK = "127.0.0.1";
    public static final int DEFAULT_HTTP_PORT = 8500;
    public static final int DEFAULT_RAFT_PORT = 8300;
    /** Smallest Raft log segment size accepted. */
    public static final long MIN_LOG_SEGMENT_BYTES = 64 * 1024;

    public AgentConfig {
        Objects.requireNonNull(nodeName, "nodeName");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(discovery, "discovery");
        retryJoin = List.copyOf(retryJoin);
        if (nodeName.isBlank()) {
            throw new IllegalArgumentException("node name must not be empty");
        }
        if (datacenter == null || datacenter.isBlank()) {
            throw new IllegalArgumentException("datacenter must not be empty");
        }
        checkPort("HTTP", httpPort);
        checkPort("Raft", raftPort);
        if (bootstrapExpect < 0) {
            throw new IllegalArgumentException("bootstrap-expect must not be negative");
        }
        if (snapshotThreshold < 1) {
            throw new IllegalArgumentException("snapshot threshold must be at least 1");
        }
        if (logSegmentBytes < MIN_LOG_SEGMENT_BYTES) {
            throw new IllegalArgumentException("Raft log segment size must be at least " + MIN_LOG_SEGMENT_BYTES
                    + " bytes");
        }
    }

    private static void checkPort(String what, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + " port out of range: " + port);
        }
    }

    /** A single server on loopback with the default ports, bootstrap-expect 1. */
    public static AgentConfig defaults(String nodeName, Path dataDir) {
        return new AgentConfig(nodeName, DEFAULT_DATACENTER, true, false, 1, List.of(), LOOPBACK, LOOPBACK,
                DEFAULT_HTTP_PORT, DEFAULT_RAFT_PORT, dataDir, RaftConfig.DEFAULT_SNAPSHOT_EVERY,
                RaftConfig.DEFAULT_LOG_SEGMENT_BYTES,
                RaftConfig.DEFAULT_ELECTION_MIN, RaftConfig.DEFAULT_ELECTION_MAX, RaftConfig.DEFAULT_REQUEST_TIMEOUT,
                DiscoveryConfig.defaults(LOOPBACK));
    }

    /** Every port ephemeral (HTTP, Raft, DNS): for tests. */
    public AgentConfig withEphemeralPorts() {
        return withPorts(0, 0).withDiscovery(discovery.withDnsPort(0));
    }

    public AgentConfig withDiscovery(DiscoveryConfig d) {
        return new AgentConfig(nodeName, datacenter, server, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr,
                httpPort, raftPort, dataDir, snapshotThreshold, logSegmentBytes,
                electionMin, electionMax, requestTimeout, d);
    }

    public AgentConfig withPorts(int http, int raft) {
        return new AgentConfig(nodeName, datacenter, server, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr,
                http, raft, dataDir, snapshotThreshold, logSegmentBytes,
                electionMin, electionMax, requestTimeout, discovery);
    }

    public AgentConfig withCluster(int expect, List<String> join) {
        return new AgentConfig(nodeName, datacenter, server, dev, expect, join, bindAddr, clientAddr, httpPort,
                raftPort, dataDir, snapshotThreshold, logSegmentBytes,
                electionMin, electionMax, requestTimeout, discovery);
    }

    public AgentConfig withDatacenter(String dc) {
        return new AgentConfig(nodeName, dc, server, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr, httpPort,
                raftPort, dataDir, snapshotThreshold, logSegmentBytes,
                electionMin, electionMax, requestTimeout, discovery);
    }

    public AgentConfig withAddresses(String bind, String client) {
        return new AgentConfig(nodeName, datacenter, server, dev, bootstrapExpect, retryJoin, bind, client, httpPort,
                raftPort, dataDir, snapshotThreshold, logSegmentBytes,
                electionMin, electionMax, requestTimeout, discovery);
    }

    public AgentConfig withSnapshotThreshold(long n) {
        return new AgentConfig(nodeName, datacenter, server, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr,
                httpPort, raftPort, dataDir, n, logSegmentBytes, electionMin, electionMax, requestTimeout, discovery);
    }

    public AgentConfig withLogSegmentBytes(long bytes) {
        return new AgentConfig(nodeName, datacenter, server, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr,
                httpPort, raftPort, dataDir, snapshotThreshold, bytes, electionMin, electionMax, requestTimeout,
                discovery);
    }

    public AgentConfig withServer(boolean isServer) {
        return new AgentConfig(nodeName, datacenter, isServer, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr,
                httpPort, raftPort, dataDir, snapshotThreshold, logSegmentBytes, electionMin, electionMax,
                requestTimeout, discovery);
    }

    public AgentConfig withDev(boolean devMode) {
        return new AgentConfig(nodeName, datacenter, server, devMode, bootstrapExpect, retryJoin, bindAddr,
                clientAddr, httpPort, raftPort, dataDir, snapshotThreshold, logSegmentBytes, electionMin, electionMax,
                requestTimeout, discovery);
    }

    public AgentConfig withRequestTimeout(Duration timeout) {
        return new AgentConfig(nodeName, datacenter, server, dev, bootstrapExpect, retryJoin, bindAddr, clientAddr,
                httpPort, raftPort, dataDir, snapshotThreshold, logSegmentBytes,
                electionMin, electionMax, timeout, discovery);
    }

    /** The Raft member configuration this agent runs with. */
    public RaftConfig raftConfig() {
        return new RaftConfig(nodeName, datacenter, bindAddr, raftPort, dataDir, retryJoin, bootstrapExpect,
                electionMin, electionMax, snapshotThreshold, requestTimeout, logSegmentBytes);
    }
}
