package dev.weft.agent.acl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.acl.AclConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static dev.weft.agent.acl.AclHttp.call;
import static dev.weft.agent.acl.AclHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real agent on 127.0.0.1 with {@code -acl-enabled -acl-default-policy deny}: a table of token × endpoint ×
 * expected status, then the list filtering, the token sources, bootstrap-once and the ACL endpoints' answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AclMatrixTest {
    static final String NODE = "acl-node";
    static final String AGENT_SECRET = "0b7e1c5e-6c1f-4b77-9d3e-4a0f2f6d7a11";

    private TestAgent agent;
    private String base;
    private String mgmt;
    private String readKv;
    private String write;
    private String svcRead;
    private final String unknown = UUID.randomUUID().toString();

    @BeforeAll
    void start() {
        try {
            agent = TestAgent.startWithAcl(NODE, new AclConfig(true, false, AGENT_SECRET));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        base = agent.baseUrl();
        AclHttp.Resp boot = ok(call(base, null, "PUT", "/v1/acl/bootstrap", null), "bootstrap");
        mgmt = boot.json().path("SecretID").asText();
        assertEquals("global-management", boot.json().path("Policies").path(0).path("Name").asText());

        // the agent token: its own node, the services registered through it, and what DNS may reveal
        AclHttp.policy(base, mgmt, "agent", """
                node "acl-node" { policy = "write" }
                node_prefix "" { policy = "read" }
                service "web" { policy = "write" }
                """);
        AclHttp.token(base, mgmt, "agent", AGENT_SECRET);
        AclHttp.policy(base, mgmt, "kv-read", "key_prefix \"app/\" { policy = \"read\" }");
        AclHttp.policy(base, mgmt, "writer", """
                key_prefix "app/" { policy = "write" }
                session_prefix "" { policy = "write" }
                service "web" { policy = "write" }
                node_prefix "" { policy = "read" }
                """);
        AclHttp.policy(base, mgmt, "svc-read", """
                {"service_prefix": {"web": {"policy": "read"}}, "node_prefix": {"": {"policy": "read"}}}
                """);
        readKv = AclHttp.token(base, mgmt, "kv-read", null);
        write = AclHttp.token(base, mgmt, "writer", null);
        svcRead = AclHttp.token(base, mgmt, "svc-read", null);

        ok(call(base, mgmt, "PUT", "/v1/kv/app/a", "A"), "seed");
        ok(call(base, mgmt, "PUT", "/v1/kv/secret/x", "X"), "seed");
        for (String svc : List.of("web", "db")) {
            ok(call(base, mgmt, "PUT", "/v1/catalog/register", """
                    {"Node": "ext", "Address": "10.1.2.3", "Service": {"Service": "%s", "Port": 80}}
                    """.formatted(svc)), "register " + svc);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private record Row(String method, String path, String body, int none, int unknown, int readKv, int write,
                       int svcRead, int mgmt) {
    }

    @Test
    void tokenTimesEndpointMatrix() {
        List<Row> rows = List.of(
                new Row("GET", "/v1/kv/app/a", null, 403, 403, 200, 200, 403, 200),
                new Row("PUT", "/v1/kv/app/b", "B", 403, 403, 403, 200, 403, 200),
                new Row("DELETE", "/v1/kv/app/b", null, 403, 403, 403, 200, 403, 200),
                new Row("DELETE", "/v1/kv/app/?recurse", null, 403, 403, 403, 200, 403, 200),
                new Row("GET", "/v1/kv/secret/x", null, 403, 403, 403, 403, 403, 200),
                new Row("GET", "/v1/kv/?recurse", null, 404, 403, 200, 200, 404, 200),
                new Row("GET", "/v1/kv/?keys", null, 200, 403, 200, 200, 200, 200),
                new Row("GET", "/v1/catalog/services", null, 200, 403, 200, 200, 200, 200),
                new Row("GET", "/v1/catalog/service/web", null, 200, 403, 200, 200, 200, 200),
                new Row("GET", "/v1/catalog/nodes", null, 200, 403, 200, 200, 200, 200),
                new Row("GET", "/v1/health/service/web", null, 200, 403, 200, 200, 200, 200),
                new Row("PUT", "/v1/catalog/register",
                        "{\"Node\": \"ext\", \"Address\": \"10.1.2.3\", \"SkipNodeUpdate\": true,"
                                + " \"Service\": {\"Service\": \"web\", \"ID\": \"web-2\", \"Port\": 81}}",
                        403, 403, 403, 200, 403, 200),
                new Row("PUT", "/v1/agent/service/register", "{\"Name\": \"web\", \"ID\": \"web-local\", \"Port\": 80}",
                        403, 403, 403, 200, 403, 200),
                new Row("GET", "/v1/agent/self", null, 403, 403, 403, 403, 403, 200),
                new Row("PUT", "/v1/session/create", "{}", 403, 403, 403, 200, 403, 200),
                new Row("PUT", "/v1/txn", "[{\"KV\": {\"Verb\": \"get\", \"Key\": \"app/a\"}}]",
                        403, 403, 200, 200, 403, 200),
                new Row("PUT", "/v1/txn", "[{\"KV\": {\"Verb\": \"set\", \"Key\": \"app/t\", \"Value\": \"dA==\"}}]",
                        403, 403, 403, 200, 403, 200),
                new Row("GET", "/v1/operator/raft/configuration", null, 403, 403, 403, 403, 403, 200),
                new Row("GET", "/v1/snapshot", null, 403, 403, 403, 403, 403, 200),
                new Row("GET", "/v1/acl/token/self", null, 200, 403, 200, 200, 200, 200),
                new Row("GET", "/v1/acl/tokens", null, 403, 403, 403, 403, 403, 200),
                new Row("GET", "/v1/acl/policies", null, 403, 403, 403, 403, 403, 200),
                new Row("PUT", "/v1/acl/policy", "{\"Name\": \"matrix-made\", \"Rules\": \"\"}",
                        403, 403, 403, 403, 403, 200),
                new Row("GET", "/v1/agent/services", null, 200, 403, 200, 200, 200, 200),
                new Row("GET", "/v1/internal/feed?index=0", null, 403, 403, 403, 403, 403, 200),
                new Row("GET", "/v1/status/leader", null, 200, 200, 200, 200, 200, 200));
        String[] tokens = {null, unknown, readKv, write, svcRead, mgmt};
        String[] names = {"none", "unknown", "kv-read", "writer", "svc-read", "management"};
        List<String> failures = new ArrayList<>();
        for (Row r : rows) {
            int[] expected = {r.none(), r.unknown(), r.readKv(), r.write(), r.svcRead(), r.mgmt()};
            for (int i = 0; i < tokens.length; i++) {
                AclHttp.Resp resp = call(base, tokens[i], r.method(), r.path(), r.body());
                if (resp.status() != expected[i]) {
                    failures.add(names[i] + " " + r.method() + " " + r.path() + ": expected " + expected[i] + ", got "
                            + resp.status() + " " + resp.body().strip());
                }
                if (resp.status() == 403) {
                    String msg = resp.body().strip();
                    String want = i == 1 ? "ACL not found" : "Permission denied";
                    if (!msg.equals(want)) {
                        failures.add(names[i] + " " + r.method() + " " + r.path() + ": message \"" + msg + "\"");
                    }
                }
            }
            // rows that change state are re-seeded so that every token sees the same starting point
            ok(call(base, mgmt, "PUT", "/v1/kv/app/a", "A"), "re-seed");
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void listsAreFiltered() {
        JsonNode entries = ok(call(base, readKv, "GET", "/v1/kv/?recurse", null), "recurse").json();
        for (JsonNode e : entries) {
            assertTrue(e.path("Key").asText().startsWith("app/"), e.toString());
        }
        assertTrue(entries.size() >= 1);
        JsonNode keys = ok(call(base, mgmt, "GET", "/v1/kv/?keys", null), "keys").json();
        assertTrue(keys.toString().contains("secret/x"), "management sees everything");
        assertFalse(ok(call(base, readKv, "GET", "/v1/kv/?keys", null), "keys").body().contains("secret/x"));

        JsonNode services = ok(call(base, svcRead, "GET", "/v1/catalog/services", null), "services").json();
        assertTrue(services.has("web"), services.toString());
        assertFalse(services.has("db"), services.toString());
        assertEquals(0, ok(call(base, svcRead, "GET", "/v1/catalog/service/db", null), "db").json().size());
        assertEquals(0, ok(call(base, svcRead, "GET", "/v1/health/service/db", null), "db").json().size());
        assertTrue(ok(call(base, svcRead, "GET", "/v1/health/service/web", null), "web").json().size() >= 1);
        assertEquals(0, ok(call(base, null, "GET", "/v1/catalog/nodes", null), "nodes").json().size(),
                "the anonymous token reads no node under default deny");
        JsonNode all = ok(call(base, mgmt, "GET", "/v1/catalog/services", null), "services").json();
        assertTrue(all.has("db") && all.has("web"));

        // /v1/agent/members: filtered by node read, as Consul does
        JsonNode members = ok(call(base, svcRead, "GET", "/v1/agent/members", null), "members").json();
        assertEquals(1, members.size(), members.toString());
        assertEquals("acl-node", members.get(0).path("Name").asText());
        assertEquals(0, ok(call(base, readKv, "GET", "/v1/agent/members", null), "members").json().size(),
                "a token without node read sees no member");
        assertEquals(0, ok(call(base, null, "GET", "/v1/agent/members", null), "members").json().size());
    }

    @Test
    void tokenFromBearerHeaderAndQuery() {
        AclHttp.Resp bearer = AclHttp.send(base, new String[] {"Authorization", "Bearer " + readKv}, "GET",
                "/v1/kv/app/a", null);
        assertEquals(200, bearer.status(), bearer.body());
        assertEquals(200, call(base, null, "GET", "/v1/kv/app/a?token=" + readKv, null).status());
        assertEquals(403, call(base, null, "GET", "/v1/kv/app/a?token=" + unknown, null).status());
    }

    @Test
    void noTokenIsTheAnonymousToken() {
        JsonNode self = ok(call(base, null, "GET", "/v1/acl/token/self", null), "self").json();
        assertEquals("00000000-0000-0000-0000-000000000002", self.path("AccessorID").asText());
        assertEquals("anonymous", self.path("SecretID").asText());
        // granting the anonymous token a policy opens what it allows to requests without a token
        String policy = AclHttp.policy(base, mgmt, "anon-public", "key_prefix \"public/\" { policy = \"read\" }");
        ok(call(base, mgmt, "PUT", "/v1/kv/public/p", "P"), "seed");
        assertEquals(403, call(base, null, "GET", "/v1/kv/public/p", null).status());
        String anonymous = "/v1/acl/token/00000000-0000-0000-0000-000000000002";
        ok(call(base, mgmt, "PUT", anonymous, "{\"Policies\": [{\"ID\": \"" + policy + "\"}]}"), "update anonymous");
        try {
            assertEquals(200, call(base, null, "GET", "/v1/kv/public/p", null).status());
            assertEquals(403, call(base, null, "GET", "/v1/kv/app/a", null).status());
        } finally {
            // the other tests expect an anonymous token without policies (and no key outside app/ and secret/)
            ok(call(base, mgmt, "PUT", anonymous, "{\"Policies\": []}"), "reset anonymous");
            ok(call(base, mgmt, "DELETE", "/v1/kv/public/p", null), "clean up");
        }
    }

    @Test
    void bootstrapOnlyOnce() {
        AclHttp.Resp again = call(base, null, "PUT", "/v1/acl/bootstrap", null);
        assertEquals(403, again.status());
        assertTrue(again.body().contains("ACL bootstrap no longer allowed"), again.body());
    }

    @Test
    void aclEndpointsShowSecretsOnlyOnCreation() {
        AclHttp.Resp created = ok(call(base, mgmt, "PUT", "/v1/acl/token",
                "{\"Description\": \"d\", \"Policies\": [{\"Name\": \"kv-read\"}]}"), "create");
        String secret = created.json().path("SecretID").asText();
        String accessor = created.json().path("AccessorID").asText();
        assertEquals(36, secret.length());
        AclHttp.Resp read = ok(call(base, mgmt, "GET", "/v1/acl/token/" + accessor, null), "read");
        assertEquals("<hidden>", read.json().path("SecretID").asText());
        assertEquals("kv-read", read.json().path("Policies").path(0).path("Name").asText());
        assertFalse(ok(call(base, mgmt, "GET", "/v1/acl/tokens", null), "list").body().contains(secret));
        AclHttp.Resp self = ok(call(base, secret, "GET", "/v1/acl/token/self", null), "self");
        assertEquals(accessor, self.json().path("AccessorID").asText());
        assertEquals(secret, self.json().path("SecretID").asText(), "the caller's own secret");

        AclHttp.Resp updated = ok(call(base, mgmt, "PUT", "/v1/acl/token/" + accessor,
                "{\"Description\": \"d2\", \"Policies\": [{\"Name\": \"writer\"}]}"), "update");
        assertEquals("d2", updated.json().path("Description").asText());
        assertEquals(200, call(base, secret, "PUT", "/v1/kv/app/by-updated", "x").status(), "new policy applies");
        ok(call(base, mgmt, "DELETE", "/v1/acl/token/" + accessor, null), "delete");
        assertEquals(403, call(base, secret, "GET", "/v1/kv/app/a", null).status());
        assertEquals("ACL not found", call(base, secret, "GET", "/v1/kv/app/a", null).body().strip());

        AclHttp.Resp bad = call(base, mgmt, "PUT", "/v1/acl/policy",
                "{\"Name\": \"bad\", \"Rules\": \"key_prefix \\\"a\\\" { policy = \\\"read\\\" }\\nfoo = \\\"x\\\"\"}");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("line 2"), bad.body());
        AclHttp.Resp dup = call(base, mgmt, "PUT", "/v1/acl/policy", "{\"Name\": \"kv-read\", \"Rules\": \"\"}");
        assertEquals(400, dup.status(), dup.body());
        JsonNode byName = ok(call(base, mgmt, "GET", "/v1/acl/policy/name/kv-read", null), "by name").json();
        assertTrue(byName.path("Rules").asText().contains("app/"));
    }

    @Test
    void deniedRequestsAreCounted() {
        double before = deniedTotal();
        call(base, null, "GET", "/v1/kv/app/a", null);
        call(base, unknown, "GET", "/v1/kv/app/a", null);
        call(base, readKv, "PUT", "/v1/kv/app/a", "x");
        assertEquals(before + 3, deniedTotal(), 0.001);
    }

    private double deniedTotal() {
        String metrics = ok(call(base, mgmt, "GET", "/v1/agent/metrics?format=prometheus", null), "metrics").body();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("weft_acl_denied_total")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no weft_acl_denied_total in\n" + metrics);
    }

    @Test
    void dnsRevealsOnlyWhatTheAgentTokenMayRead() throws Exception {
        TestAgent.awaitTrue("web answers in DNS", Duration.ofSeconds(20),
                () -> dns("web.service.weft.").rcode() == Rcode.NOERROR && dns("web.service.weft.").answers() > 0);
        Dns db = dns("db.service.weft.");
        assertEquals(Rcode.NXDOMAIN, db.rcode(), "db exists, but the agent token may not read it");
        assertEquals(0, db.answers());
    }

    private record Dns(int rcode, int answers) {
    }

    private Dns dns(String name) {
        try {
            SimpleResolver r = new SimpleResolver(agent.agent().dnsAddress());
            r.setTimeout(Duration.ofSeconds(2));
            Message resp = r.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
            return new Dns(resp.getRcode(), resp.getSection(Section.ANSWER).size());
        } catch (Exception e) {
            return new Dns(-1, 0);
        }
    }

    @Test
    void agentTokenWritesTheAgentsOwnNode() {
        // anti-entropy registers this agent's node with the agent token once that token exists
        TestAgent.awaitTrue("agent node registered with the agent token", Duration.ofSeconds(40), () ->
                call(base, mgmt, "GET", "/v1/catalog/node/" + NODE, null).body().contains("\"" + NODE + "\""));
        assertEquals(200, call(base, write, "GET", "/v1/catalog/node/" + NODE, null).status());
        byte[] none = call(base, null, "GET", "/v1/catalog/node/" + NODE, null).bytes();
        assertEquals("null", new String(none, StandardCharsets.UTF_8).strip(), "filtered for the anonymous token");
    }
}
