package dev.weft.kvstore.state;

/**
 * One stored key. Indexes are Raft log indexes: CreateIndex when the key was created, ModifyIndex of the
 * last write, LockIndex counts successful acquisitions. {@code session} is null when the key is not locked.
 * The value array is never mutated after construction; callers must not mutate it either.
 */
public record KvEntry(String key, byte[] value, long flags, long createIndex, long modifyIndex, long lockIndex,
                      String session) {

    public KvEntry {
        value = value == null ? new byte[0] : value;
    }

    KvEntry withValue(byte[] v, long f, long idx) {
        return new KvEntry(key, v, f, createIndex, idx, lockIndex, session);
    }

    /** Copy without the value, as Consul returns for write verbs of a transaction. */
    public KvEntry withoutValue() {
        return new KvEntry(key, null, flags, createIndex, modifyIndex, lockIndex, session);
    }

    public boolean hasValue() {
        return value != null && value.length > 0;
    }
}
