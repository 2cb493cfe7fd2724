package dev.weft.agent.http;

import dev.weft.kvstore.PermissionDeniedException;
import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.acl.AuthorizingStore;
import dev.weft.kvstore.acl.Secrets;
import dev.weft.kvstore.state.AclPolicy;
import dev.weft.kvstore.state.AclToken;
import dev.weft.kvstore.state.AclView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Result;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The agent's own writers (anti-entropy, registrator, overlay leases) go through {@link AuthorizingStore}: what the
 * agent token may not do never reaches the store.
 */
class AuthorizingStoreTest {
    private static final String AGENT = "agent-secret";

    private static InMemoryStore storeWithAgentToken() throws Exception {
        InMemoryStore store = new InMemoryStore();
        store.submit(new Command.AclBootstrap(
                new AclPolicy(AclView.MANAGEMENT_POLICY_ID, AclView.MANAGEMENT_POLICY_NAME, "", "", 0, 0),
                new AclToken("boot", Secrets.hash("boot-secret"), "", List.of(AclView.MANAGEMENT_POLICY_ID), false, 0,
                        0, 0), null)).get();
        store.submit(new Command.AclPolicySet(new AclPolicy("p", "agent", "", """
                node "n1" { policy = "write" }
                key_prefix "_weft/net/" { policy = "write" }
                session "n1" { policy = "write" }
                """, 0, 0))).get();
        store.submit(new Command.AclTokenSet(new AclToken("agent", Secrets.hash(AGENT), "", List.of("p"), false, 0,
                0, 0))).get();
        return store;
    }

    private static Throwable failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void agentWritesNeedTheAgentTokensPermission() throws Exception {
        InMemoryStore store = storeWithAgentToken();
        AuthorizingStore own = new AuthorizingStore(store, new AclConfig(true, false, AGENT));
        assertEquals(Result.TRUE, own.submit(new Command.KvSet("_weft/net/leases/x", new byte[0], 0,
                Command.NO_CAS)).get().result());
        assertInstanceOf(PermissionDeniedException.class,
                failure(own.submit(new Command.KvSet("elsewhere", new byte[0], 0, Command.NO_CAS))));
        assertNull(store.read(v -> v.get("elsewhere")), "a refused write never reaches the store");
        assertEquals(Result.FALSE, own.submit(new Command.NodeHeartbeat("n1")).get().result(),
                "allowed (the node is just not registered)");
        assertInstanceOf(PermissionDeniedException.class, failure(own.submit(new Command.NodeHeartbeat("n2"))));
        assertInstanceOf(PermissionDeniedException.class, failure(own.submit(
                new Command.SessionCreate("s", "", "n2", 0, 0, null, 0))));

        AuthorizingStore unknown = new AuthorizingStore(store, new AclConfig(true, true, "no-such-token"));
        assertInstanceOf(PermissionDeniedException.class, failure(unknown.submit(new Command.NodeHeartbeat("n1"))),
                "an unknown agent token may do nothing, whatever the default policy");
    }
}
