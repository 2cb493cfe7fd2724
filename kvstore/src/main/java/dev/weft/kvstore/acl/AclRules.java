package dev.weft.kvstore.acl;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rules of one or more policies, parsed ({@link RulesParser}) and merged: per resource, exact-name rules and
 * prefix rules; plus the {@code operator} and {@code acl} levels (null when no policy says anything).
 * Immutable once built.
 */
public final class AclRules {
    final Map<Resource, TreeMap<String, Access>> exact = new EnumMap<>(Resource.class);
    final Map<Resource, TreeMap<String, Access>> prefix = new EnumMap<>(Resource.class);
    Access operator;
    Access acl;

    AclRules() {
        for (Resource r : Resource.values()) {
            exact.put(r, new TreeMap<>());
            prefix.put(r, new TreeMap<>());
        }
    }

    public static final AclRules EMPTY = new AclRules();

    void add(Resource r, boolean isPrefix, String name, Access a) {
        (isPrefix ? prefix.get(r) : exact.get(r)).merge(name, a, Access::merge);
    }

    /** These rules and {@code other}'s merged (equal names: deny wins, else the stronger grant). */
    public AclRules mergedWith(AclRules other) {
        AclRules m = new AclRules();
        for (AclRules src : new AclRules[] {this, other}) {
            for (Resource r : Resource.values()) {
                src.exact.get(r).forEach((k, v) -> m.add(r, false, k, v));
                src.prefix.get(r).forEach((k, v) -> m.add(r, true, k, v));
            }
            m.operator = Access.merge(m.operator, src.operator);
            m.acl = Access.merge(m.acl, src.acl);
        }
        return m;
    }
}
