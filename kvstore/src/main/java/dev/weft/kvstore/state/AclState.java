package dev.weft.kvstore.state;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The ACL tables inside {@link KvState}: changed only by the ACL commands, deterministic like the rest. */
final class AclState implements AclView {
    final TreeMap<String, AclPolicy> policies = new TreeMap<>();
    final TreeMap<String, AclToken> tokens = new TreeMap<>();
    final Map<String, String> accessorByHash = new HashMap<>();
    long bootstrapIndex;
    long aclIndex;

    Result bootstrap(long index, Command.AclBootstrap c) {
        if (bootstrapIndex != 0) {
            return Result.FALSE;
        }
        bootstrapIndex = index;
        policies.put(c.management().id(), c.management().at(index, index));
        putToken(c.token().at(index, index));
        if (c.anonymous() != null && !tokens.containsKey(c.anonymous().accessorId())) {
            putToken(c.anonymous().at(index, index));
        }
        aclIndex = index;
        return Result.TRUE;
    }

    Result setPolicy(long index, Command.AclPolicySet c) {
        AclPolicy p = c.policy();
        AclPolicy sameName = policyByName(p.name());
        if (sameName != null && !sameName.id().equals(p.id())) {
            return new Result.Invalid("Invalid Policy: A Policy with Name \"" + p.name() + "\" already exists");
        }
        AclPolicy old = policies.get(p.id());
        if (old != null && old.id().equals(MANAGEMENT_POLICY_ID) && !old.rules().equals(p.rules())) {
            return new Result.Invalid("Changing the Rules for the builtin global-management policy is not permitted");
        }
        policies.put(p.id(), p.at(old == null ? index : old.createIndex(), index));
        aclIndex = index;
        return Result.TRUE;
    }

    Result deletePolicy(long index, Command.AclPolicyDelete c) {
        if (MANAGEMENT_POLICY_ID.equals(c.id())) {
            return new Result.Invalid("Deletion of the builtin global-management policy is not permitted");
        }
        if (policies.remove(c.id()) == null) {
            return Result.FALSE;
        }
        aclIndex = index;
        return Result.TRUE;
    }

    Result setToken(long index, Command.AclTokenSet c) {
        AclToken t = c.token();
        for (String id : t.policyIds()) {
            if (!policies.containsKey(id)) {
                return new Result.Invalid("No such ACL policy with ID \"" + id + "\"");
            }
        }
        String holder = accessorByHash.get(t.secretHash());
        if (holder != null && !holder.equals(t.accessorId())) {
            return new Result.Invalid("Invalid Token: SecretID is already in use");
        }
        AclToken old = tokens.get(t.accessorId());
        if (old != null) {
            accessorByHash.remove(old.secretHash());
        }
        putToken(t.at(old == null ? index : old.createIndex(), index));
        aclIndex = index;
        return Result.TRUE;
    }

    Result deleteToken(long index, Command.AclTokenDelete c) {
        if (ANONYMOUS_ACCESSOR_ID.equals(c.accessorId())) {
            return new Result.Invalid("Deletion of the builtin anonymous token is not permitted");
        }
        AclToken old = tokens.remove(c.accessorId());
        if (old == null) {
            return Result.FALSE;
        }
        accessorByHash.remove(old.secretHash());
        aclIndex = index;
        return Result.TRUE;
    }

    void putToken(AclToken t) {
        tokens.put(t.accessorId(), t);
        accessorByHash.put(t.secretHash(), t.accessorId());
    }

    void replaceWith(AclState other) {
        policies.clear();
        policies.putAll(other.policies);
        tokens.clear();
        accessorByHash.clear();
        for (AclToken t : other.tokens.values()) {
            putToken(t);
        }
        bootstrapIndex = other.bootstrapIndex;
        aclIndex = other.aclIndex;
    }

    @Override
    public long bootstrapIndex() {
        return bootstrapIndex;
    }

    @Override
    public long aclIndex() {
        return aclIndex;
    }

    @Override
    public AclPolicy policy(String id) {
        return policies.get(id);
    }

    @Override
    public AclPolicy policyByName(String name) {
        for (AclPolicy p : policies.values()) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    @Override
    public List<AclPolicy> policies() {
        return new ArrayList<>(policies.values());
    }

    @Override
    public AclToken token(String accessorId) {
        return tokens.get(accessorId);
    }

    @Override
    public AclToken tokenBySecretHash(String secretHash) {
        String accessor = accessorByHash.get(secretHash);
        return accessor == null ? null : tokens.get(accessor);
    }

    @Override
    public List<AclToken> tokens() {
        return new ArrayList<>(tokens.values());
    }
}
