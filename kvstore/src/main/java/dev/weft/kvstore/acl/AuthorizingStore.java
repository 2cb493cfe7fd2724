package dev.weft.kvstore.acl;

import dev.weft.kvstore.PermissionDeniedException;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.feed.ChangeFeed;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The store as the agent's own writers see it (anti-entropy and heartbeats, the registrator through them, the
 * network plugin) when ACLs are enabled: every proposal is checked with the agent token by
 * {@link CommandAuthorizer} before it goes to the real store, which on a client agent forwards it with that token
 * to a server that checks it again. Reads pass through. Owns nothing: {@link #close()} does not close the store.
 */
public final class AuthorizingStore implements ReplicatedStore {
    private static final Logger LOG = LoggerFactory.getLogger(AuthorizingStore.class);

    private final ReplicatedStore store;
    private final TokenResolver resolver;
    private final String token;

    public AuthorizingStore(ReplicatedStore store, AclConfig config) {
        this.store = store;
        this.resolver = new TokenResolver(config.defaultAllow());
        this.token = config.agentToken();
    }

    @Override
    public CompletableFuture<Applied> submit(Command command) {
        String missing;
        try {
            missing = store.read(v -> {
                try {
                    return CommandAuthorizer.denied(resolver.resolve(v.acl(), token), command, v);
                } catch (TokenResolver.AclNotFoundException e) {
                    return "an agent token that exists (-acl-agent-token is unknown)";
                }
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (missing != null) {
            LOG.warn("ACL: the agent token may not {}: needs {}", command.getClass().getSimpleName(), missing);
            return CompletableFuture.failedFuture(new PermissionDeniedException("Permission denied"));
        }
        return store.submit(command, token);
    }

    @Override
    public CompletableFuture<Applied> submit(Command command, String requestToken) {
        return submit(command);
    }

    @Override
    public CompletableFuture<Void> readBarrier() {
        return store.readBarrier();
    }

    @Override
    public <T> T read(Function<KvReadView, T> reader) {
        return store.read(reader);
    }

    @Override
    public long catalogIndex() {
        return store.catalogIndex();
    }

    @Override
    public Watches watches() {
        return store.watches();
    }

    @Override
    public ChangeFeed feed() {
        return store.feed();
    }

    @Override
    public RaftStatus status() {
        return store.status();
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String peerId) {
        return store.transferLeadership(peerId);
    }

    @Override
    public CompletableFuture<Void> removePeer(String peerId) {
        return store.removePeer(peerId);
    }

    @Override
    public CompletableFuture<Long> takeSnapshot() {
        return store.takeSnapshot();
    }

    @Override
    public void close() {
        // the agent closes the real store
    }
}
