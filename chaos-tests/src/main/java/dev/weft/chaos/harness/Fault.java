package dev.weft.chaos.harness;

/** The faults the nemesis injects. */
public enum Fault {
    /** The leader is cut off from every other member (both directions). */
    ISOLATE_LEADER(true),
    /** A random minority is cut off from the majority. */
    SPLIT(true),
    /** The leader cannot send to anyone, but others can still call it (one-way, asymmetric). */
    ONE_WAY(true),
    /** 200–1000 ms latency with jitter on every Raft link. */
    LATENCY(true),
    /** Every Raft link limited to 16–64 KB/s. */
    BANDWIDTH(true),
    /** Connections of one member are reset (TCP RST) after a short timeout, again and again. */
    RESET_PEER(true),
    /** Closes are delayed on every link while one member is briefly cut off and let back. */
    SLOW_CLOSE(true),
    /** One member's links stop carrying data without closing (a black hole). */
    TIMEOUT(true),
    /** kill -9 one member, restart it with its data. */
    KILL(false),
    /** kill -9 a majority, restart them. */
    KILL_MAJORITY(false),
    /** Every member in turn: clean stop, start, wait until it is back in the cluster. */
    ROLLING_RESTART(false),
    /** A follower is killed, the log moves on past a snapshot, and it comes back under latency: snapshot install. */
    SNAPSHOT_INSTALL(false);

    /** Network faults: after their heal, the time until writes work again is held to the recovery bar. */
    final boolean network;

    Fault(boolean network) {
        this.network = network;
    }
}
