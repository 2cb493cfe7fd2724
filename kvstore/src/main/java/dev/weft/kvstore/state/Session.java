package dev.weft.kvstore.state;

/**
 * A session: a lease that locks hang on. {@code expiresAtMillis} is the deadline decided from the times carried
 * in create/renew commands; 0 means no TTL.
 */
public record Session(String id, String name, String node, long ttlMillis, long lockDelayMillis, Behavior behavior,
                      long createIndex, long modifyIndex, long expiresAtMillis) {

    public enum Behavior {
        RELEASE("release"), DELETE("delete");

        private final String wireName;

        Behavior(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        /** @return the behavior or null when unknown */
        public static Behavior fromWire(String s) {
            for (Behavior b : values()) {
                if (b.wireName.equalsIgnoreCase(s)) {
                    return b;
                }
            }
            return null;
        }
    }
}
