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
 * @param raftPort         Raft port (0 = pick a free port on first start and keep it in the data dir)
 * @param dataDir          Raft log, snapshots and the member's identity live here
 * @param join             other servers' Raft addresses (host:port), Consul's -retry-join
 * @param bootstrapExpect  number of servers that form the initial cluster; 0 = join an existing cluster
 * @param electionMin      Ratis rpc.timeout.min
 * @param electionMax      Ratis rpc.timeout.max
 * @param snapshotEvery    take a snapshot every this many applied entries (auto-trigger threshold)
 * @param requestTimeout   how long a proposal or read barrier may wait for a leader before failing
 * @param logSegmentBytes  size at which a Raft log segment is closed; only closed segments can be purged
 *                         after a snapshot, so this also bounds how much log is kept beyond the snapshot
 */
public record RaftConfig(String nodeName, String datacenter, String bindHost, int raftPort, Path dataDir,
                         List<String> join, int bootstrapExpect, Duration electionMin, Duration electionMax,
                         long snapshotEvery, Duration requestTimeout, long logSegmentBytes) {

    public RaftConfig {
        join = List.copyOf(join);
    }

    /** The original eleven-field form; the log segment size takes its default. */
    public RaftConfig(String nodeName, String datacenter, String bindHost, int raftPort, Path dataDir,
                      List<String> join, int bootstrapExpect, Duration electionMin, Duration electionMax,
                      long snapshotEvery, Duration requestTimeout) {
        this(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin, electionMax,
                snapshotEvery, requestTimeout, DEFAULT_LOG_SEGMENT_BYTES);
    }

    /** Election timeouts chosen for busy 2-core machines: no spurious elections under load, failover under 1 s. */
    public static final Duration DEFAULT_ELECTION_MIN = Duration.ofMillis(450);
    public static final Duration DEFAULT_ELECTION_MAX = Duration.ofMillis(700);
    public static final long DEFAULT_SNAPSHOT_EVERY = 10_000;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(7);
    public static final long DEFAULT_LOG_SEGMENT_BYTES = 8L * 1024 * 1024;

    public static RaftConfig defaults(String nodeName, Path dataDir) {
        return new RaftConfig(nodeName, "dc1", "127.0.0.1", 8300, dataDir, List.of(), 1,
                DEFAULT_ELECTION_MIN, DEFAULT_ELECTION_MAX, DEFAULT_SNAPSHOT_EVERY, DEFAULT_REQUEST_TIMEOUT,
                DEFAULT_LOG_SEGMENT_BYTES);
    }

    /** This member's Raft address as advertised to the other servers. */
    public String raftAddress() {
        return RaftAddress.format(bindHost, raftPort);
    }

    public RaftConfig withPort(int port) {
        return new RaftConfig(nodeName, datacenter, bindHost, port, dataDir, join, bootstrapExpect, electionMin,
                electionMax, snapshotEvery, requestTimeout, logSegmentBytes);
    }

    public RaftConfig withJoin(List<String> join, int bootstrapExpect) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin,
                electionMax, snapshotEvery, requestTimeout, logSegmentBytes);
    }

    public RaftConfig withSnapshotEvery(long n) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin,
                electionMax, n, requestTimeout, logSegmentBytes);
    }

    public RaftConfig withRequestTimeout(Duration timeout) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin,
                electionMax, snapshotEvery, timeout, logSegmentBytes);
    }

    public RaftConfig withElectionTimeouts(Duration min, Duration max) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, min, max,
                snapshotEvery, requestTimeout, logSegmentBytes);
    }

    public RaftConfig withLogSegmentBytes(long bytes) {
        return new RaftConfig(nodeName, datacenter, bindHost, raftPort, dataDir, join, bootstrapExpect, electionMin,
                electionMax, snapshotEvery, requestTimeout, bytes);
    }
}
