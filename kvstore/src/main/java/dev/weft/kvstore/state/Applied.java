package dev.weft.kvstore.state;

import java.util.Set;

/**
 * The result of applying one command at one log index, and what it touched: the KV keys written or deleted,
 * whether the sessions table changed, and the catalog watch topics touched ({@link CatalogView#TOPIC_NODES},
 * {@link CatalogView#serviceTopic}, ...). Watchers use these to wake only the blocking queries concerned.
 */
public record Applied(long index, Result result, Set<String> changedKeys, boolean sessionsChanged,
                      Set<String> catalogTopics) {
    public Applied {
        changedKeys = Set.copyOf(changedKeys);
        catalogTopics = Set.copyOf(catalogTopics);
    }

    public Applied(long index, Result result, Set<String> changedKeys, boolean sessionsChanged) {
        this(index, result, changedKeys, sessionsChanged, Set.of());
    }
}
