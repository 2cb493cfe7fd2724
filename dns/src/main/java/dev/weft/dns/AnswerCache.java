package dev.weft.dns;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rendered answers of one catalog index. Every query reads the catalog's current index (cheap, under the read
 * lock); when it moved, the whole generation is dropped and a new, empty one starts. An entry is only stored
 * in the generation of the index it was computed at, so a hit is always as fresh as the view.
 *
 * <p>Bounded twice: by entries and by approximate heap bytes ({@link CachedResponse#bytes()} plus the key and
 * the map's node). When an entry would cross either bound, a new, empty generation of the same index starts:
 * queries for random names cannot grow the cache without limit, nor past its share of a small heap (a client
 * agent runs in 48 MiB).
 */
final class AnswerCache {
    /** Heap bytes of a map node and its table slot, added to each entry's own estimate. */
    static final int ENTRY_OVERHEAD = 48;

    private record Generation(long index, ConcurrentHashMap<Query.CacheKey, CachedResponse> entries,
                              AtomicLong bytes) {
        Generation(long index) {
            this(index, new ConcurrentHashMap<>(), new AtomicLong());
        }
    }

    private final int maxEntries;
    private final long maxBytes;
    private volatile Generation current = new Generation(Long.MIN_VALUE);

    AnswerCache(int maxEntries, long maxBytes) {
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    /** The entry computed at {@code index}, or null (and a fresh generation when the index moved). */
    CachedResponse get(long index, Query.CacheKey key) {
        Generation g = current;
        if (g.index != index) {
            current = new Generation(index);
            return null;
        }
        return g.entries.get(key);
    }

    void put(long index, Query.CacheKey key, CachedResponse response) {
        if (maxEntries == 0 || maxBytes == 0) {
            return;
        }
        Generation g = current;
        if (g.index != index) {
            return;
        }
        long cost = (long) response.bytes() + key.bytes() + ENTRY_OVERHEAD;
        if (cost > maxBytes) {
            return;
        }
        if (g.entries.size() >= maxEntries || g.bytes.get() + cost > maxBytes) {
            Generation fresh = new Generation(index);
            current = fresh;
            g = fresh;
        }
        if (g.entries.put(key, response) == null) {
            g.bytes.addAndGet(cost);
        }
    }

    int size() {
        return current.entries.size();
    }

    /** Approximate heap bytes of the current generation. */
    long bytes() {
        return current.bytes.get();
    }
}
