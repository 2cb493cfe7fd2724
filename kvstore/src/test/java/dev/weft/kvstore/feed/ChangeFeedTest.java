package dev.weft.kvstore.feed;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChangeFeedTest {

    private static byte[] bytes(int n) {
        return new byte[n];
    }

    @Test
    void readersGetTheEntriesAfterTheirIndexAcrossGapsInIndexes() {
        ChangeFeed f = new ChangeFeed(10, 1 << 20);
        f.append(3, bytes(1));
        f.append(4, bytes(1));
        f.append(7, bytes(1)); // 5 and 6 were Raft configuration entries: not in the feed
        assertEquals(List.of(3L, 4L, 7L), indexes(f.after(0, 1 << 20)));
        assertEquals(List.of(7L), indexes(f.after(4, 1 << 20)));
        assertEquals(List.of(7L), indexes(f.after(5, 1 << 20)));
        ChangeFeed.Slice none = f.after(7, 1 << 20);
        assertTrue(none.entries().isEmpty());
        assertEquals(7, none.upTo());
        // a reader ahead of this server (it followed another one) gets nothing, and is not moved back
        assertEquals(9, f.after(9, 1 << 20).upTo());
    }

    @Test
    void aReaderBelowTheFloorNeedsASnapshot() {
        ChangeFeed f = new ChangeFeed(3, 1 << 20);
        for (long i = 1; i <= 5; i++) {
            f.append(i, bytes(1));
        }
        assertEquals(2, f.floor(), "entries 1 and 2 were dropped; a reader at 2 still has all it needs");
        assertNull(f.after(1, 1 << 20));
        assertEquals(List.of(3L, 4L, 5L), indexes(f.after(2, 1 << 20)));
    }

    @Test
    void theByteBoundDropsOldEntriesButKeepsTheNewest() {
        ChangeFeed f = new ChangeFeed(100, 10);
        f.append(1, bytes(6));
        f.append(2, bytes(6));
        assertEquals(1, f.size());
        assertEquals(1, f.floor());
        f.append(3, bytes(50)); // larger than the bound alone: kept, since it is the newest
        assertEquals(1, f.size());
        assertEquals(List.of(3L), indexes(f.after(2, 1)));
    }

    @Test
    void answersAreCutAtTheByteLimitButAlwaysCarryOneEntry() {
        ChangeFeed f = new ChangeFeed(100, 1 << 20);
        for (long i = 1; i <= 5; i++) {
            f.append(i, bytes(10));
        }
        assertEquals(List.of(1L, 2L), indexes(f.after(0, 25)));
        assertEquals(List.of(1L), indexes(f.after(0, 3)));
        assertEquals(2, f.after(0, 25).upTo());
    }

    @Test
    void resetStartsOverAtTheSnapshotIndex() {
        ChangeFeed f = new ChangeFeed(100, 1 << 20);
        f.append(1, bytes(1));
        f.reset(40);
        assertNull(f.after(1, 100));
        assertTrue(f.after(40, 100).entries().isEmpty());
        f.append(41, bytes(1));
        assertEquals(List.of(41L), indexes(f.after(40, 100)));
        assertThrows(IllegalArgumentException.class, () -> f.append(41, bytes(1)));
    }

    @Test
    void heartbeatOnlySlicesAreQuiet() {
        ChangeFeed f = new ChangeFeed(100, 1 << 20);
        f.append(1, bytes(1), true);
        f.append(2, bytes(1), true);
        assertTrue(f.after(0, 100).quiet(), "only heartbeats: a waiting reader need not wake");
        f.append(3, bytes(1), false);
        assertEquals(false, f.after(0, 100).quiet());
        assertEquals(false, f.after(2, 100).quiet());
        assertTrue(f.after(3, 100).quiet(), "nothing new is quiet too");
    }

    @Test
    void entriesAndServersSurviveTheWireFormat() {
        List<ChangeFeed.Entry> entries = List.of(new ChangeFeed.Entry(5, new byte[] {1, 2}),
                new ChangeFeed.Entry(9, new byte[0]));
        List<ChangeFeed.Entry> back = FeedProtocol.decodeEntries(FeedProtocol.encodeEntries(entries));
        assertEquals(2, back.size());
        assertEquals(9, back.get(1).index());
        assertArrayEquals(new byte[] {1, 2}, back.get(0).data());
        byte[] truncated = java.util.Arrays.copyOf(FeedProtocol.encodeEntries(entries), 13);
        assertThrows(IllegalArgumentException.class, () -> FeedProtocol.decodeEntries(truncated));

        List<FeedProtocol.Server> servers = List.of(new FeedProtocol.Server("a-1", "a:1", "a:8500", true),
                new FeedProtocol.Server("b-2", "b:2", "", false));
        assertEquals(servers, FeedProtocol.decodeServers(FeedProtocol.encodeServers(servers)));
        assertEquals(List.of(), FeedProtocol.decodeServers("garbage"));
    }

    private static List<Long> indexes(ChangeFeed.Slice s) {
        return s.entries().stream().map(ChangeFeed.Entry::index).toList();
    }
}
