package dev.weft.kvstore.feed;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The recent committed commands of a server, as client agents replay them: each entry is the encoded command
 * ({@code CommandCodec}, possibly a batch) and the log index it was applied at. A client that has applied
 * everything up to index {@code n} asks for {@link #after(long, int)}; when the entries it needs were already
 * dropped ({@code n} is below {@link #floor()}) it must start again from a full snapshot of the state.
 *
 * <p>Bounded by entry count and by bytes (whichever is hit first, the oldest entries go). The state machine
 * appends under its write lock right after applying, so a snapshot taken under its read lock at index {@code s}
 * is always followed, in this feed, by exactly the entries after {@code s}. Thread-safe.
 */
public final class ChangeFeed {
    /** Default bounds: a client that falls further behind than this catches up from a snapshot. */
    public static final int DEFAULT_MAX_ENTRIES = 16_384;
    public static final long DEFAULT_MAX_BYTES = 32L * 1024 * 1024;

    /**
     * One committed command. {@code quiet} entries (agent heartbeats: they change nothing a client reads) do not
     * wake a waiting reader by themselves; they reach it with the next other entry or when its wait ends.
     */
    public record Entry(long index, byte[] data, boolean quiet) {
        public Entry(long index, byte[] data) {
            this(index, data, false);
        }
    }

    /**
     * An answer to {@link #after}: the entries (possibly none) and the index they bring a reader to
     * ({@code upTo}: the last entry's index, or the reader's own index when there are none).
     */
    public record Slice(List<Entry> entries, long upTo) {
        /** Whether every entry is quiet (or there are none): nothing a reader must hear about at once. */
        public boolean quiet() {
            for (Entry e : entries) {
                if (!e.quiet()) {
                    return false;
                }
            }
            return true;
        }
    }

    private final int maxEntries;
    private final long maxBytes;
    private final TreeMap<Long, Entry> entries = new TreeMap<>();
    private long bytes;
    /** The state's index just before the oldest retained entry: readers at or above it can be fed. */
    private long floor;
    private long last;

    public ChangeFeed(int maxEntries, long maxBytes) {
        if (maxEntries < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("feed bounds must be positive");
        }
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    public ChangeFeed() {
        this(DEFAULT_MAX_ENTRIES, DEFAULT_MAX_BYTES);
    }

    /** Records the command applied at {@code index} (indexes strictly increase). */
    public synchronized void append(long index, byte[] data) {
        append(index, data, false);
    }

    /** As {@link #append(long, byte[])}; {@code quiet} marks an entry that alone need not wake readers. */
    public synchronized void append(long index, byte[] data, boolean quiet) {
        if (index <= last) {
            throw new IllegalArgumentException("feed index " + index + " not after " + last);
        }
        entries.put(index, new Entry(index, data, quiet));
        bytes += data.length;
        last = index;
        while (entries.size() > maxEntries || (bytes > maxBytes && entries.size() > 1)) {
            Entry gone = entries.pollFirstEntry().getValue();
            bytes -= gone.data().length;
            floor = gone.index();
        }
    }

    /** Forgets every entry: the state was replaced (snapshot load) and now stands at {@code index}. */
    public synchronized void reset(long index) {
        entries.clear();
        bytes = 0;
        floor = index;
        last = index;
    }

    /** Lowest reader index this feed can serve. */
    public synchronized long floor() {
        return floor;
    }

    /** Index of the newest entry (or of the state at the last reset). */
    public synchronized long last() {
        return last;
    }

    public synchronized int size() {
        return entries.size();
    }

    public synchronized long bytes() {
        return bytes;
    }

    /**
     * The entries after {@code index}, at most about {@code maxBytes} of them (always at least one when any
     * exists), or null when {@code index} is below {@link #floor()} and the reader needs a snapshot.
     */
    public synchronized Slice after(long index, int maxBytes) {
        if (index < floor) {
            return null;
        }
        List<Entry> out = new ArrayList<>();
        if (index >= last) {
            return new Slice(out, index);
        }
        long size = 0;
        for (Map.Entry<Long, Entry> me : entries.tailMap(index, false).entrySet()) {
            Entry e = me.getValue();
            if (!out.isEmpty() && size + e.data().length > maxBytes) {
                break;
            }
            out.add(e);
            size += e.data().length;
        }
        return new Slice(out, out.isEmpty() ? index : out.get(out.size() - 1).index());
    }
}
