package dev.weft.kvstore;

import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.Result;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One-shot change notifications for blocking queries. A watch on a key fires when that key is written or
 * deleted; a watch on a prefix fires when any key under it changes; a sessions watch fires when the sessions
 * table changes; a catalog watch fires when its topic (nodes, services, checks, one service's health) changes;
 * an "any" watch fires on every applied index. Each watch fires at most once and is then gone,
 * so a blocking query re-reads and re-arms if its index did not move past the one it waits for.
 *
 * <p>Cost per applied write is O(length of each changed key) map lookups, independent of how many queries
 * wait. Callbacks run on the applying thread and must only hand work off (for example to an event loop).
 * Thread-safe.
 */
public final class Watches {

    /** A registered watch; cancelling is idempotent. */
    public interface Handle {
        void cancel();
    }

    private final Map<String, Set<Entry>> byKey = new HashMap<>();
    private final Map<String, Set<Entry>> byPrefix = new HashMap<>();
    private final Map<String, Set<Entry>> byTopic = new HashMap<>();
    private final Set<Entry> sessions = new LinkedHashSet<>();
    private final Set<Entry> any = new LinkedHashSet<>();
    private int count;

    private final class Entry implements Handle {
        final Map<String, Set<Entry>> map;
        final String name;
        final Set<Entry> set;
        final Runnable callback;

        Entry(Map<String, Set<Entry>> map, String name, Set<Entry> set, Runnable callback) {
            this.map = map;
            this.name = name;
            this.set = set;
            this.callback = callback;
        }

        @Override
        public void cancel() {
            synchronized (Watches.this) {
                remove(this);
            }
        }
    }

    public Handle onKey(String key, Runnable callback) {
        return add(byKey, key, callback);
    }

    public Handle onPrefix(String prefix, Runnable callback) {
        return add(byPrefix, prefix, callback);
    }

    /** Fires when a catalog topic changes ({@code CatalogView.TOPIC_*} or {@code CatalogView.serviceTopic}). */
    public Handle onCatalog(String topic, Runnable callback) {
        return add(byTopic, topic, callback);
    }

    public synchronized Handle onSessions(Runnable callback) {
        Entry e = new Entry(null, null, sessions, callback);
        sessions.add(e);
        count++;
        return e;
    }

    public synchronized Handle onAny(Runnable callback) {
        Entry e = new Entry(null, null, any, callback);
        any.add(e);
        count++;
        return e;
    }

    /** Number of armed watches (a gauge for metrics). */
    public synchronized int size() {
        return count;
    }

    private synchronized Handle add(Map<String, Set<Entry>> map, String name, Runnable callback) {
        Set<Entry> set = map.computeIfAbsent(name, k -> new LinkedHashSet<>());
        Entry e = new Entry(map, name, set, callback);
        set.add(e);
        count++;
        return e;
    }

    private void remove(Entry e) {
        if (e.set.remove(e)) {
            count--;
            if (e.map != null && e.set.isEmpty()) {
                e.map.remove(e.name, e.set);
            }
        }
    }

    /**
     * What to fire after the whole state was replaced (a snapshot install): every key and catalog topic that
     * exists before or after. Call with both views readable (under the store's lock or on immutable states).
     */
    public static Applied everythingChanged(KvReadView before, KvReadView after, long index) {
        Set<String> keys = new HashSet<>(before.keys("", ""));
        keys.addAll(after.keys("", ""));
        Set<String> topics = new HashSet<>(List.of(CatalogView.TOPIC_NODES, CatalogView.TOPIC_SERVICES,
                CatalogView.TOPIC_CHECKS));
        before.catalog().services().keySet().forEach(n -> topics.add(CatalogView.serviceTopic(n)));
        after.catalog().services().keySet().forEach(n -> topics.add(CatalogView.serviceTopic(n)));
        return new Applied(index, Result.TRUE, keys, true, topics);
    }

    /** Called by the store after each applied command; runs the callbacks of the watches it concerns. */
    public void fire(Applied applied) {
        List<Entry> due = new ArrayList<>();
        synchronized (this) {
            if (count == 0) {
                return;
            }
            take(any, due);
            if (applied.sessionsChanged()) {
                take(sessions, due);
            }
            for (String topic : applied.catalogTopics()) {
                Set<Entry> t = byTopic.get(topic);
                if (t != null) {
                    take(t, due);
                }
            }
            for (String key : applied.changedKeys()) {
                Set<Entry> exact = byKey.get(key);
                if (exact != null) {
                    take(exact, due);
                }
                if (!byPrefix.isEmpty()) {
                    for (int i = 0; i <= key.length(); i++) {
                        Set<Entry> p = byPrefix.get(key.substring(0, i));
                        if (p != null) {
                            take(p, due);
                        }
                    }
                }
            }
        }
        for (Entry e : due) {
            e.callback.run();
        }
    }

    private void take(Set<Entry> set, List<Entry> due) {
        if (set.isEmpty()) {
            return;
        }
        List<Entry> copy = new ArrayList<>(set);
        for (Entry e : copy) {
            remove(e);
        }
        due.addAll(copy);
    }
}
