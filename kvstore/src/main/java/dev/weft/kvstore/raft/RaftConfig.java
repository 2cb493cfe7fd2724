package dev.weft.kvstore.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Typed configuration of one Raft member, with the defaults in {@link #defaults}.
 *
 * @param nodeName         the agent's node name (metadata; the Raft peer ID is derived from the address)
 * @param datacenter       datacenter name; the Raft group ID is derived from it
 * @param bindHost         address the Raft server listens on and advertises
 * @param raftPort         Raft port (0 = ephemeral, for tests)
 * @param dataDir          Raft log, snapshots and the member's identity live here
 * @param join             other servers' Raft addresses (host:port), Consul's -retry-join
 * @param bootstrapExpect  number of servers that form the initial cluster; 0 = join an existing cluster
 * @param electionMin      Ratis rpc.timeout.min
 * @param electionMax      Ratis rpc.timeout.max
 * @param snapshotEvery    take a snapshot every this many applied entries (auto-trigger threshold)
 * @param requestTimeout   how long a proposal or read barrier may wait for a leader before failing
 */
public record RaftConfig(String nodeName, String datacenter, String bindHost, int raftPort, Path dataDir,
                         List<String> join, int bootstrapExpect, Duration electionMin, Duration electionMax,
                         long snapshotEvery, Duration requestTimeout) {

    public RaftConfig {
        join = List.copyOf(join);
    }

    /** Election timeouts chosen for busy 2-core machines: no spurious elections under load, failover under 1 s. */
    public static final Duration DEFAULT_ELECTION_MIN = Duration.ofMillis(450);
    public static final Duration DEFAULT_ELECTION_MAX = Duration.ofMillis(700);
    public static final long DEFAULT_SNAPSHOT_EVERY = 10_000;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(7);

    public static RaftConfig defaults(String nodeName, Path dataDir) {
        return new RaftConfig(nodeName, "dc1", "127.0.0.1", 8300, dataDir, List.of(), 1,
                DEFAULT_ELECTION_MIN, DEFAULT_ELECTION_MAX, DEFAULT_SNAPSHOT_EVERY, DEFAULT_REQUEST_TIMEOUT);
    }

    public RaftConfig withPort(int port) {
        return new RaftConfig(nodeName, datacenter, bindHost, port, dataDir, join, bootstrapExpect, electionMin,
                electionMax, snapshotEvery, requestTimeout);
    }

    public RaftConfig withJoin(List<String> join, int bootstrapExpect) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin,
                electionMax, snapshotEvery, requestTimeout);
    }

    public RaftConfig withSnapshotEvery(long n) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin,
                electionMax, n, requestTimeout);
    }
}
