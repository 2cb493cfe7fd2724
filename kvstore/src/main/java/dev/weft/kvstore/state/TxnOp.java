package dev.weft.kvstore.state;

import java.util.Objects;

/** One KV operation of a transaction, with Consul's verbs. Unused fields are 0 / null. */
public record TxnOp(Verb verb, String key, byte[] value, long flags, long index, String session) {

    public TxnOp {
        Objects.requireNonNull(verb);
        Objects.requireNonNull(key);
        value = value == null ? new byte[0] : value;
    }

    /** Consul's KV verbs for /v1/txn, by their wire names. */
    public enum Verb {
        SET("set"), CAS("cas"), LOCK("lock"), UNLOCK("unlock"), GET("get"), GET_OR_EMPTY("get-or-empty"),
        GET_TREE("get-tree"), CHECK_INDEX("check-index"), CHECK_SESSION("check-session"),
        CHECK_NOT_EXISTS("check-not-exists"), DELETE("delete"), DELETE_TREE("delete-tree"), DELETE_CAS("delete-cas");

        private final String wireName;

        Verb(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        /** @return the verb, or null when the name is not one of Consul's KV verbs */
        public static Verb fromWire(String name) {
            for (Verb v : values()) {
                if (v.wireName.equals(name)) {
                    return v;
                }
            }
            return null;
        }

        /** Whether the verb changes state (a transaction of read verbs only needs no Raft write). */
        public boolean writes() {
            return switch (this) {
                case SET, CAS, LOCK, UNLOCK, DELETE, DELETE_TREE, DELETE_CAS -> true;
                default -> false;
            };
        }
    }
}
