package dev.weft.kvstore.raft;

import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Leader duty that forgets KV tombstones once they are older than {@code ttl} (Consul's tombstone GC, 15 min by
 * default): it samples (time, applied index) every tick and proposes {@link Command.ReapTombstones} up to the
 * index that was current {@code ttl} ago. A blocking query older than that on a deleted key then wakes on the
 * next KV write instead of the delete itself, as in Consul. Not thread-safe: run by the single duty thread.
 */
final class TombstoneReaper implements LeaderDuty {

    private record Sample(long atMillis, long index) {
    }

    private final long ttlMillis;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private long reapedUpTo;

    TombstoneReaper(Duration ttl) {
        this.ttlMillis = ttl.toMillis();
    }

    @Override
    public List<Command> due(KvReadView view, long nowMillis) {
        if (samples.isEmpty() || samples.peekLast().index() != view.lastIndex()) {
            samples.addLast(new Sample(nowMillis, view.lastIndex()));
        }
        Sample eligible = null;
        while (!samples.isEmpty() && samples.peekFirst().atMillis() <= nowMillis - ttlMillis) {
            eligible = samples.pollFirst();
        }
        if (eligible == null || eligible.index() <= reapedUpTo || view.tombstoneCount() == 0) {
            return List.of();
        }
        reapedUpTo = eligible.index();
        return List.of(new Command.ReapTombstones(eligible.index()));
    }
}
