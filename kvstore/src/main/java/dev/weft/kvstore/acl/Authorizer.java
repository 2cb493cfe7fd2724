package dev.weft.kvstore.acl;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one token may do: its policies' merged rules over a default policy. Pure logic. For a name, an exact rule
 * beats any prefix rule; among prefix rules the longest matching prefix wins (ties were merged, deny winning);
 * without a matching rule the default policy decides. The management token may do everything.
 */
public final class Authorizer {
    private static final Authorizer MANAGEMENT = new Authorizer(null, Access.WRITE);
    private static final Authorizer ALLOW_ALL = new Authorizer(new AclRules(), Access.WRITE);

    private final AclRules rules; // null = management
    private final Access fallback;

    private Authorizer(AclRules rules, Access fallback) {
        this.rules = rules;
        this.fallback = fallback;
    }

    /** A token with the global-management policy. */
    public static Authorizer management() {
        return MANAGEMENT;
    }

    /** What requests get while ACLs are off. */
    public static Authorizer allowAll() {
        return ALLOW_ALL;
    }

    /** @param defaultAllow the agent's {@code -acl-default-policy}: allow (true) or deny (false) */
    public static Authorizer of(AclRules rules, boolean defaultAllow) {
        return new Authorizer(rules, defaultAllow ? Access.WRITE : Access.DENY);
    }

    public boolean isManagement() {
        return rules == null;
    }

    /** The access the rules give to {@code name} of {@code resource}. */
    public Access access(Resource resource, String name) {
        if (rules == null) {
            return Access.WRITE;
        }
        Access exact = rules.exact.get(resource).get(name);
        if (exact != null) {
            return exact;
        }
        // Longest matching prefix: walk down from the greatest prefix <= name.
        Map.Entry<String, Access> best = null;
        for (Map.Entry<String, Access> e : rules.prefix.get(resource).headMap(name, true).descendingMap()
                .entrySet()) {
            if (name.startsWith(e.getKey()) && (best == null || e.getKey().length() > best.getKey().length())) {
                best = e;
                if (best.getKey().length() == name.length()) {
                    break;
                }
            }
        }
        return best != null ? best.getValue() : fallback;
    }

    public boolean read(Resource resource, String name) {
        return access(resource, name).allowsRead();
    }

    public boolean write(Resource resource, String name) {
        return access(resource, name).allowsWrite();
    }

    /**
     * Write access to every name under {@code prefix} (recursive deletes, {@code delete-tree}): write on the prefix
     * itself and no rule below it that takes write away, as Consul's {@code KeyWritePrefix}.
     */
    public boolean writeUnder(Resource resource, String prefix) {
        return write(resource, prefix) && noneBelow(resource, prefix, Access.WRITE);
    }

    /** Read access to every name under {@code prefix}: read on the prefix and no deny rule below it. */
    public boolean readUnder(Resource resource, String prefix) {
        return read(resource, prefix) && noneBelow(resource, prefix, Access.READ);
    }

    private boolean noneBelow(Resource resource, String prefix, Access needed) {
        if (rules == null) {
            return true;
        }
        for (TreeMap<String, Access> m : List.of(rules.prefix.get(resource), rules.exact.get(resource))) {
            for (Map.Entry<String, Access> e : m.tailMap(prefix, true).entrySet()) {
                if (!e.getKey().startsWith(prefix)) {
                    break;
                }
                if (e.getValue().ordinal() < needed.ordinal()) {
                    return false;
                }
            }
        }
        return true;
    }

    public boolean operatorRead() {
        return level(rules == null ? Access.WRITE : rules.operator).allowsRead();
    }

    public boolean operatorWrite() {
        return level(rules == null ? Access.WRITE : rules.operator).allowsWrite();
    }

    public boolean aclRead() {
        return level(rules == null ? Access.WRITE : rules.acl).allowsRead();
    }

    public boolean aclWrite() {
        return level(rules == null ? Access.WRITE : rules.acl).allowsWrite();
    }

    private Access level(Access a) {
        return a != null ? a : fallback;
    }
}
