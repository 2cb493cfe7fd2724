package dev.weft.kvstore.acl;

/**
 * An agent's ACL settings: {@code -acl-enabled}, {@code -acl-default-policy allow|deny} (Consul's default when
 * enabled is allow) and {@code -acl-agent-token}, the token the agent's own writers and DNS act with.
 */
public record AclConfig(boolean enabled, boolean defaultAllow, String agentToken) {
    public static final AclConfig DISABLED = new AclConfig(false, true, "");

    public AclConfig {
        agentToken = agentToken == null ? "" : agentToken;
    }

    /** Parses {@code allow} or {@code deny}. */
    public static boolean parseDefaultPolicy(String value) {
        return switch (value) {
            case "allow" -> true;
            case "deny" -> false;
            default -> throw new IllegalArgumentException("acl default policy must be allow or deny, not \""
                    + value + "\"");
        };
    }
}
