package dev.weft.kvstore;

import dev.weft.kvstore.feed.ChangeFeed;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The replicated state as the rest of the agent uses it: propose commands, read the local view, wait for
 * changes. Implemented over Apache Ratis by {@code RaftStore}.
 */
public interface ReplicatedStore extends AutoCloseable {

    /**
     * Proposes a command through Raft. Completes with the applied result once it is committed; fails with
     * {@link NoLeaderException} when no leader can be reached in time, or {@link StoreException} otherwise.
     */
    CompletableFuture<Applied> submit(Command command);

    /**
     * As {@link #submit(Command)}, on behalf of a request that carried the ACL {@code token} ("" for none). A Raft
     * server has checked the token before proposing and ignores it; a client agent forwards it to the server,
     * which checks it again ({@link PermissionDeniedException} when refused).
     */
    default CompletableFuture<Applied> submit(Command command, String token) {
        return submit(command);
    }

    /**
     * Linearizable read barrier (Raft ReadIndex through Ratis): completes once this member's local view has
     * applied everything committed before the call. Fails with {@link NoLeaderException} without a leader.
     */
    CompletableFuture<Void> readBarrier();

    /** Reads the local view under its read lock. Never blocks on the network; works without quorum. */
    <T> T read(Function<KvReadView, T> reader);

    /**
     * The catalog's change index ({@code CatalogView.catalogIndex()}), readable without the read lock so that
     * hot paths (DNS) can check cheaply whether anything they cached is stale.
     */
    default long catalogIndex() {
        return read(v -> v.catalog().catalogIndex());
    }

    /** Wakes blocking queries when committed changes touch what they watch. */
    Watches watches();

    /**
     * The recent committed commands that client agents replay into their read views, or null where this store
     * is not a Raft server (a client agent's own store).
     */
    default ChangeFeed feed() {
        return null;
    }

    /** Raft status of this member: leader, peers, last contact. */
    RaftStatus status();

    /** Asks the leader to hand leadership to {@code peerId} (or to any other peer when null). */
    CompletableFuture<Void> transferLeadership(String peerId);

    /** Removes a server from the Raft configuration. */
    CompletableFuture<Void> removePeer(String peerId);

    /** Forces a Raft snapshot on this member now; completes with its log index. */
    CompletableFuture<Long> takeSnapshot();

    @Override
    void close();
}
