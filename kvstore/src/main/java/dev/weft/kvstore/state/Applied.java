package dev.weft.kvstore.state;

import java.util.Set;

/**
 * The result of applying one command at one log index, and what it touched: the KV keys written or deleted
 * and whether the sessions table changed. Watchers use these to wake only the blocking queries concerned.
 */
public record Applied(long index, Result result, Set<String> changedKeys, boolean sessionsChanged) {
    public Applied {
        changedKeys = Set.copyOf(changedKeys);
    }
}
