package dev.weft.kvstore.acl;

import dev.weft.kvstore.state.AclPolicy;
import dev.weft.kvstore.state.AclToken;
import dev.weft.kvstore.state.AclView;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Turns a request's secret into an {@link Authorizer} against the replicated ACL tables: no secret means the
 * anonymous token; an unknown secret is {@link AclNotFoundException}. Parsed policy rules are cached by policy ID
 * and ModifyIndex. Thread-safe.
 */
public final class TokenResolver {
    private static final int MAX_CACHED = 4096;
    private final boolean defaultAllow;
    private final ConcurrentMap<String, Parsed> parsed = new ConcurrentHashMap<>();

    private record Parsed(long modifyIndex, AclRules rules) {
    }

    /** The secret matches no token: Consul answers 403 "ACL not found". */
    public static final class AclNotFoundException extends RuntimeException {
        public AclNotFoundException() {
            super("ACL not found", null, false, false);
        }
    }

    public TokenResolver(boolean defaultAllow) {
        this.defaultAllow = defaultAllow;
    }

    /** The token of {@code secret} (null or empty: the anonymous token, which may not exist yet). */
    public AclToken token(AclView view, String secret) {
        if (secret == null || secret.isEmpty()) {
            return view.token(AclView.ANONYMOUS_ACCESSOR_ID);
        }
        AclToken t = view.tokenBySecretHash(Secrets.hash(secret));
        if (t == null) {
            throw new AclNotFoundException();
        }
        return t;
    }

    public Authorizer resolve(AclView view, String secret) {
        return authorizer(view, token(view, secret));
    }

    /** The authorizer of a token (null: no policies, the default policy alone). */
    public Authorizer authorizer(AclView view, AclToken token) {
        if (token == null) {
            return Authorizer.of(AclRules.EMPTY, defaultAllow);
        }
        AclRules merged = AclRules.EMPTY;
        for (String id : token.policyIds()) {
            if (AclView.MANAGEMENT_POLICY_ID.equals(id)) {
                return Authorizer.management();
            }
            AclPolicy p = view.policy(id);
            if (p != null) {
                merged = merged.mergedWith(rules(p));
            }
        }
        return Authorizer.of(merged, defaultAllow);
    }

    private AclRules rules(AclPolicy p) {
        Parsed cached = parsed.get(p.id());
        if (cached != null && cached.modifyIndex() == p.modifyIndex()) {
            return cached.rules();
        }
        AclRules r;
        try {
            r = RulesParser.parse(p.rules());
        } catch (RulesParser.InvalidRulesException e) {
            r = AclRules.EMPTY; // checked before it was proposed; a policy that no longer parses grants nothing
        }
        if (parsed.size() >= MAX_CACHED) {
            parsed.clear(); // deleted policies would otherwise stay forever
        }
        parsed.put(p.id(), new Parsed(p.modifyIndex(), r));
        return r;
    }
}
