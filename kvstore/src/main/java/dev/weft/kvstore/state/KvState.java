package dev.weft.kvstore.state;

import java.util.List;

/** Placeholder; being written. */
public final class KvState implements KvReadView {
    public Applied apply(long index, Command command) { throw new IllegalStateException("pending"); }
    public long lastIndex() { return 0; }
    public KvEntry get(String key) { return null; }
    public List<KvEntry> list(String prefix) { return List.of(); }
    public List<String> keys(String prefix, String separator) { return List.of(); }
    public long indexOfKey(String key) { return 0; }
    public long indexOfPrefix(String prefix) { return 0; }
    public long kvIndex() { return 0; }
    public Session session(String id) { return null; }
    public List<Session> sessions() { return List.of(); }
    public List<Session> sessionsOfNode(String node) { return List.of(); }
    public long sessionsIndex() { return 0; }
    public List<Session> expiredSessions(long nowMillis) { return List.of(); }
    public int kvCount() { return 0; }
    public long kvValueBytes() { return 0; }
}
