package dev.weft.agent.http;

import dev.weft.kvstore.Watches;

/** What a blocking query waits on: one key, a prefix, the sessions table, or any applied index. */
@FunctionalInterface
interface WatchTarget {
    Watches.Handle arm(Watches watches, Runnable callback);

    static WatchTarget key(String key) {
        return (w, cb) -> w.onKey(key, cb);
    }

    static WatchTarget prefix(String prefix) {
        return (w, cb) -> w.onPrefix(prefix, cb);
    }

    static WatchTarget sessions() {
        return Watches::onSessions;
    }

    /** A catalog topic: {@code CatalogView.TOPIC_*} or {@code CatalogView.serviceTopic(name)}. */
    static WatchTarget catalog(String topic) {
        return (w, cb) -> w.onCatalog(topic, cb);
    }

    static WatchTarget any() {
        return Watches::onAny;
    }
}
