package dev.weft.kvstore.state;

import java.util.List;
import java.util.Objects;

/**
 * An ACL token. Only the SHA-256 of its secret is kept ({@code secretHash}, lower-case hex): the secret itself is
 * shown once, to whoever created the token, and is never in the log, the state or a snapshot. Policies are
 * linked by ID. {@code createTimeMillis} is decided by the proposer; the indexes are stamped when applied.
 */
public record AclToken(String accessorId, String secretHash, String description, List<String> policyIds,
                       boolean local, long createTimeMillis, long createIndex, long modifyIndex) {
    public AclToken {
        Objects.requireNonNull(accessorId, "accessorId");
        Objects.requireNonNull(secretHash, "secretHash");
        description = description == null ? "" : description;
        policyIds = policyIds == null ? List.of() : List.copyOf(policyIds);
    }

    AclToken at(long create, long modify) {
        return new AclToken(accessorId, secretHash, description, policyIds, local, createTimeMillis, create, modify);
    }
}
