package dev.weft.agent.acl;

import dev.weft.agent.TestAgent;
import dev.weft.kvstore.codec.CommandCodec;
import dev.weft.kvstore.feed.FeedProtocol;
import dev.weft.kvstore.state.Command;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static dev.weft.agent.acl.AclHttp.call;
import static dev.weft.agent.acl.AclHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A client agent with an agent token in front of an ACL-enforcing server: it follows the feed with its agent
 * token, forwards a user's write with the user's token, refuses a user without permission itself, and the
 * server refuses {@code /v1/internal} calls without a token that may.
 */
class AclClientAgentTest {
    private static final String AGENT_SECRET = "5d2b0f5e-9c1a-4e1e-8a57-1c3b9f0e2d44";

    @Test
    void clientAgentForwardsWithTheCallersTokenAndTheServerChecksAgain() throws Exception {
        try (TestAgent server = TestAgent.startWithAcl("acl-server", new dev.weft.kvstore.acl.AclConfig(true, false,
                AGENT_SECRET))) {
            String s = server.baseUrl();
            String mgmt = ok(call(s, null, "PUT", "/v1/acl/bootstrap", null), "bootstrap").json()
                    .path("SecretID").asText();
            AclHttp.policy(s, mgmt, "agents", """
                    node_prefix "" { policy = "write" }
                    service_prefix "" { policy = "write" }
                    operator = "read"
                    """);
            AclHttp.token(s, mgmt, "agents", AGENT_SECRET);
            AclHttp.policy(s, mgmt, "app-write", "key_prefix \"app/\" { policy = \"write\" }");
            AclHttp.policy(s, mgmt, "app-read", "key_prefix \"app/\" { policy = \"read\" }");
            String writer = AclHttp.token(s, mgmt, "app-write", null);
            String reader = AclHttp.token(s, mgmt, "app-read", null);

            // the feed and the barrier need operator read
            assertEquals(403, call(s, null, "GET", FeedProtocol.FEED + "?index=0", null).status());
            assertEquals(403, call(s, writer, "GET", FeedProtocol.BARRIER, null).status());

            try (TestAgent client = TestAgent.startClient("acl-client", server.httpAddr(),
                    new dev.weft.kvstore.acl.AclConfig(true, false, AGENT_SECRET))) {
                String c = client.baseUrl();
                // the client's view has the ACL tables (replicated with everything else)
                TestAgent.awaitTrue("client knows the writer token", Duration.ofSeconds(20),
                        () -> call(c, writer, "GET", "/v1/acl/token/self", null).status() == 200);

                assertEquals(200, call(c, writer, "PUT", "/v1/kv/app/via-client", "v").status());
                assertEquals("v", call(s, mgmt, "GET", "/v1/kv/app/via-client?raw", null).body());
                AclHttp.Resp refused = call(c, reader, "PUT", "/v1/kv/app/via-client", "w");
                assertEquals(403, refused.status());
                assertEquals("Permission denied", refused.body().strip());
                assertEquals(403, call(c, null, "PUT", "/v1/kv/app/via-client", "w").status());
                assertEquals(200, call(c, reader, "GET", "/v1/kv/app/via-client", null).status(),
                        "reads are authorised locally");
                // ?consistent reads go through the server's barrier with the agent token
                assertEquals(200, call(c, reader, "GET", "/v1/kv/app/via-client?consistent", null).status());
            }

            // /v1/internal/apply is no back door: the server checks the forwarded token itself
            byte[] cmd = CommandCodec.encode(new Command.KvSet("app/direct", "d".getBytes(StandardCharsets.UTF_8), 0,
                    Command.NO_CAS));
            assertEquals(403, AclHttp.send(s, null, "PUT", FeedProtocol.APPLY, cmd).status());
            assertEquals(403, AclHttp.send(s, new String[] {"X-Consul-Token", reader}, "PUT", FeedProtocol.APPLY, cmd)
                    .status());
            assertEquals(403, AclHttp.send(s, new String[] {"X-Consul-Token", "not-a-token"}, "PUT",
                    FeedProtocol.APPLY, cmd).status());
            assertEquals(200, AclHttp.send(s, new String[] {"X-Consul-Token", writer}, "PUT", FeedProtocol.APPLY, cmd)
                    .status());
            assertEquals("d", call(s, mgmt, "GET", "/v1/kv/app/direct?raw", null).body());
        }
    }
}
