package dev.weft.kvstore;

import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Result;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WatchesTest {

    private static Applied change(long index, boolean sessions, String... keys) {
        return new Applied(index, Result.TRUE, Set.of(keys), sessions);
    }

    @Test
    void firesOnlyWatchesConcernedAndOnlyOnce() {
        Watches w = new Watches();
        List<String> fired = new ArrayList<>();
        w.onKey("a/b", () -> fired.add("key a/b"));
        w.onPrefix("a/", () -> fired.add("prefix a/"));
        w.onPrefix("", () -> fired.add("prefix all"));
        w.onPrefix("b/", () -> fired.add("prefix b/"));
        w.onSessions(() -> fired.add("sessions"));
        w.onAny(() -> fired.add("any"));
        Watches.Handle cancelled = w.onKey("a/b", () -> fired.add("cancelled"));
        cancelled.cancel();
        cancelled.cancel();
        assertEquals(6, w.size());

        w.fire(change(1, false, "a/b"));
        assertEquals(List.of("any", "key a/b", "prefix all", "prefix a/"), fired);
        assertEquals(2, w.size(), "fired watches are gone; b/ and sessions remain");

        fired.clear();
        w.fire(change(2, false, "a/b", "c"));
        assertEquals(List.of(), fired);
        w.fire(change(3, true));
        assertEquals(List.of("sessions"), fired);
        w.fire(change(4, false, "b/x"));
        assertEquals(List.of("sessions", "prefix b/"), fired);
        assertEquals(0, w.size());
    }
}
