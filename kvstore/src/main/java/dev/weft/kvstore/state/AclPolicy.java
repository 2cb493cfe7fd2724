package dev.weft.kvstore.state;

import java.util.Objects;

/**
 * An ACL policy as Consul has it: an ID, a unique name, a description and the rules text (HCL or JSON, checked
 * before it is proposed). The indexes are stamped when the policy is applied.
 */
public record AclPolicy(String id, String name, String description, String rules, long createIndex,
                        long modifyIndex) {
    public AclPolicy {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        description = description == null ? "" : description;
        rules = rules == null ? "" : rules;
    }

    AclPolicy at(long create, long modify) {
        return new AclPolicy(id, name, description, rules, create, modify);
    }
}
