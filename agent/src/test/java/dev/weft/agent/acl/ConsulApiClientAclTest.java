package dev.weft.agent.acl;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.OperationException;
import com.ecwid.consul.v1.kv.model.PutParams;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.acl.AclConfig;
import org.junit.jupiter.api.Test;

import static dev.weft.agent.acl.AclHttp.call;
import static dev.weft.agent.acl.AclHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java consul-api client (which sends its token as {@code ?token=}) with and without a token. */
class ConsulApiClientAclTest {

    @Test
    void consulApiClientWithToken() throws Exception {
        try (TestAgent agent = TestAgent.startWithAcl("consul-api-acl", new AclConfig(true, false, ""))) {
            String base = agent.baseUrl();
            String mgmt = ok(call(base, null, "PUT", "/v1/acl/bootstrap", null), "bootstrap").json()
                    .path("SecretID").asText();
            AclHttp.policy(base, mgmt, "java", "key_prefix \"java/\" { policy = \"write\" }");
            String token = AclHttp.token(base, mgmt, "java", null);
            String[] addr = agent.httpAddr().split(":");
            ConsulClient client = new ConsulClient(addr[0], Integer.parseInt(addr[1]));

            assertTrue(client.setKVValue("java/k", "v", token, new PutParams()).getValue());
            assertEquals("v", client.getKVValue("java/k", token).getValue().getDecodedValue());
            OperationException denied = assertThrows(OperationException.class,
                    () -> client.setKVValue("java/k", "w", null, new PutParams()));
            assertEquals(403, denied.getStatusCode());
            assertThrows(OperationException.class, () -> client.setKVValue("other/k", "w", token, new PutParams()));
            assertNull(client.getKVValue("java/missing", token).getValue());
        }
    }
}
