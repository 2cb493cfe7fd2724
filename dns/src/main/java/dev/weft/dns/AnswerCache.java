package dev.weft.dns;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Rendered answers of one catalog index. Every query reads the catalog's current index (cheap, under the read
 * lock); when it moved, the whole generation is dropped and a new, empty one starts. An entry is only stored
 * in the generation of the index it was computed at, so a hit is always as fresh as the view. The map is
 * cleared when it reaches its bound (random names cannot grow it without limit).
 */
final class AnswerCache {
    private record Generation(long index, ConcurrentHashMap<Query.CacheKey, CachedResponse> entries) {
    }

    private final int maxEntries;
    private volatile Generation current = new Generation(Long.MIN_VALUE, new ConcurrentHashMap<>());

    AnswerCache(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    /** The entry computed at {@code index}, or null (and a fresh generation when the index moved). */
    CachedResponse get(long index, Query.CacheKey key) {
        Generation g = current;
        if (g.index != index) {
            current = new Generation(index, new ConcurrentHashMap<>());
            return null;
        }
        return g.entries.get(key);
    }

    void put(long index, Query.CacheKey key, CachedResponse response) {
        if (maxEntries == 0) {
            return;
        }
        Generation g = current;
        if (g.index != index) {
            return;
        }
        if (g.entries.size() >= maxEntries) {
            g.entries.clear();
        }
        g.entries.put(key, response);
    }

    int size() {
        return current.entries.size();
    }
}
