package dev.weft.kvstore.state;

import java.util.List;

/** Read API of the ACL tables (policies, tokens by accessor and by secret hash, the bootstrap marker). */
public interface AclView {
    /** ID of the built-in policy that allows everything (Consul's global-management). */
    String MANAGEMENT_POLICY_ID = "00000000-0000-0000-0000-000000000001";
    String MANAGEMENT_POLICY_NAME = "global-management";
    /** Accessor of the anonymous token, used for requests without a token (created by the bootstrap). */
    String ANONYMOUS_ACCESSOR_ID = "00000000-0000-0000-0000-000000000002";

    /** Log index of the bootstrap, 0 while ACLs were never bootstrapped. */
    long bootstrapIndex();

    /** Last index at which any ACL table changed (0 when never). */
    long aclIndex();

    AclPolicy policy(String id);

    AclPolicy policyByName(String name);

    List<AclPolicy> policies();

    AclToken token(String accessorId);

    AclToken tokenBySecretHash(String secretHash);

    List<AclToken> tokens();
}
