package dev.weft.kvstore;

import java.util.List;

/**
 * A member's view of the cluster. {@code lastContactMillis} is 0 on the leader, the time since the last message
 * from the leader on a follower, and -1 when there has never been a leader.
 */
public record RaftStatus(String selfId, String leaderId, String leaderAddress, boolean knownLeader,
                         boolean isLeader, long term, long commitIndex, long appliedIndex,
                         long lastContactMillis, List<Peer> peers) {

    public RaftStatus {
        peers = List.copyOf(peers);
    }

    /** One server of the Raft configuration. {@code address} is host:raftPort. */
    public record Peer(String id, String address, boolean voter) {
    }
}
