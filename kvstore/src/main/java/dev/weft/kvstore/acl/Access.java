package dev.weft.kvstore.acl;

/** A rule's policy value. Declared from weakest to strongest grant; {@link #DENY} still wins any tie. */
public enum Access {
    DENY, READ, WRITE;

    /** Two rules for the same resource and name (from different policies): deny wins, else the stronger grant. */
    static Access merge(Access a, Access b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a == DENY || b == DENY) {
            return DENY;
        }
        return a.ordinal() >= b.ordinal() ? a : b;
    }

    boolean allowsRead() {
        return this != DENY;
    }

    boolean allowsWrite() {
        return this == WRITE;
    }
}
