package dev.weft.kvstore.acl;

/** The named resources rules are written for ({@code key}/{@code key_prefix}, {@code service}/…). */
public enum Resource {
    KEY("key"), SERVICE("service"), NODE("node"), SESSION("session"), AGENT("agent");

    final String word;

    Resource(String word) {
        this.word = word;
    }

    static Resource of(String word) {
        for (Resource r : values()) {
            if (r.word.equals(word)) {
                return r;
            }
        }
        return null;
    }
}
