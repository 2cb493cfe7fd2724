package dev.weft.kvstore.acl;

import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.state.Session;
import dev.weft.kvstore.state.TxnOp;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rules parsing (HCL and JSON), rule precedence, default policies, and which permission each command needs. */
class AuthorizerTest {

    private static Authorizer deny(String rules) {
        return Authorizer.of(RulesParser.parse(rules), false);
    }

    @Test
    void parsesTheHclSubset() {
        AclRules r = RulesParser.parse("""
                # comment
                key_prefix "app/" { policy = "write" }
                key "app/secret" {
                  policy = "deny"
                }
                service_prefix "" { policy = "read" }   // another comment
                service "web" { policy = "write" }
                node_prefix "" { policy = "read" }
                node "n1" { policy = "write" }
                session_prefix "" { policy = "write" }
                agent "n1" { policy = "read" }
                agent_prefix "x" { policy = "deny" }
                key_prefix "list/" { policy = "list" }
                operator = "read"
                acl = "write"
                """);
        Authorizer a = Authorizer.of(r, false);
        assertTrue(a.write(Resource.KEY, "app/x"));
        assertFalse(a.read(Resource.KEY, "app/secret"));
        assertTrue(a.read(Resource.KEY, "list/x"));
        assertFalse(a.write(Resource.KEY, "list/x"));
        assertTrue(a.write(Resource.SERVICE, "web"));
        assertTrue(a.read(Resource.SERVICE, "db"));
        assertFalse(a.write(Resource.SERVICE, "db"));
        assertTrue(a.write(Resource.NODE, "n1"));
        assertTrue(a.write(Resource.SESSION, "any"));
        assertTrue(a.read(Resource.AGENT, "n1"));
        assertFalse(a.read(Resource.AGENT, "xy"));
        assertTrue(a.operatorRead());
        assertFalse(a.operatorWrite());
        assertTrue(a.aclWrite());
    }

    @Test
    void parsesTheJsonForm() {
        Authorizer a = deny("""
                {"key_prefix": {"app/": {"policy": "write"}, "app/ro/": {"policy": "read"}},
                 "service": {"web": {"policy": "read"}},
                 "operator": "write"}
                """);
        assertTrue(a.write(Resource.KEY, "app/a"));
        assertFalse(a.write(Resource.KEY, "app/ro/a"));
        assertTrue(a.read(Resource.KEY, "app/ro/a"));
        assertTrue(a.read(Resource.SERVICE, "web"));
        assertFalse(a.read(Resource.SERVICE, "webx"));
        assertTrue(a.operatorWrite());
        assertFalse(a.aclRead());
    }

    @Test
    void rejectsAnythingElseWithTheLine() {
        var e = assertThrows(RulesParser.InvalidRulesException.class, () -> RulesParser.parse("""
                key_prefix "a/" { policy = "read" }
                keyring = "write"
                """));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("keyring"), e.getMessage());
        for (String bad : List.of(
                "key_prefix \"a\" { policy = \"admin\" }",
                "key_prefix \"a\" { policy = \"read\"",
                "key_prefix a { policy = \"read\" }",
                "key_prefix \"a\" { intentions = \"read\" }",
                "service \"a\" { policy = \"list\" }",
                "key \"a\" { }",
                "operator = read",
                "{\"key\": {\"a\": {\"policy\": \"read\"}}} trailing",
                "{\"query\": {}}",
                "key \"unterminated { policy = \"read\" }")) {
            assertThrows(RulesParser.InvalidRulesException.class, () -> RulesParser.parse(bad), bad);
        }
        assertTrue(assertThrows(RulesParser.InvalidRulesException.class,
                () -> RulesParser.parse("\n\n\nnode \"x\" { policy = \"nope\" }")).getMessage().contains("line 4"));
    }

    @Test
    void longestPrefixWinsAndExactBeatsPrefix() {
        Authorizer a = deny("""
                key_prefix "" { policy = "read" }
                key_prefix "app/" { policy = "deny" }
                key_prefix "app/public/" { policy = "write" }
                key "app/public/locked" { policy = "read" }
                key "app" { policy = "write" }
                """);
        assertTrue(a.read(Resource.KEY, "other"));
        assertFalse(a.write(Resource.KEY, "other"));
        assertFalse(a.read(Resource.KEY, "app/x"));
        assertTrue(a.write(Resource.KEY, "app/public/x"));
        assertFalse(a.write(Resource.KEY, "app/public/locked"), "exact beats a longer-matching prefix");
        assertTrue(a.read(Resource.KEY, "app/public/locked"));
        assertTrue(a.write(Resource.KEY, "app"), "exact rule");
        assertFalse(a.read(Resource.KEY, "app/"), "app/ itself is under the prefix app/");
    }

    @Test
    void denyWinsAtEqualLengthAcrossPolicies() {
        AclRules merged = RulesParser.parse("key_prefix \"a/\" { policy = \"write\" }\noperator = \"write\"")
                .mergedWith(RulesParser.parse("key_prefix \"a/\" { policy = \"deny\" }\noperator = \"deny\""));
        Authorizer a = Authorizer.of(merged, true);
        assertFalse(a.read(Resource.KEY, "a/x"));
        assertFalse(a.operatorRead());
        AclRules both = RulesParser.parse("service \"w\" { policy = \"read\" }")
                .mergedWith(RulesParser.parse("service \"w\" { policy = \"write\" }"));
        assertTrue(Authorizer.of(both, false).write(Resource.SERVICE, "w"), "else the stronger grant");
        AclRules same = RulesParser.parse(
                "key_prefix \"a/\" { policy = \"write\" }\nkey_prefix \"a/\" { policy = \"deny\" }");
        assertFalse(Authorizer.of(same, true).read(Resource.KEY, "a/b"), "within one policy too");
    }

    @Test
    void defaultPolicyDecidesWhereNoRuleMatches() {
        Authorizer allow = Authorizer.of(RulesParser.parse("key_prefix \"x/\" { policy = \"deny\" }"), true);
        assertTrue(allow.write(Resource.KEY, "y"));
        assertTrue(allow.operatorWrite());
        assertFalse(allow.read(Resource.KEY, "x/1"));
        Authorizer deny = Authorizer.of(AclRules.EMPTY, false);
        assertFalse(deny.read(Resource.KEY, "y"));
        assertFalse(deny.read(Resource.SERVICE, "y"));
        assertFalse(deny.operatorRead());
        assertFalse(deny.aclRead());
        Authorizer m = Authorizer.management();
        assertTrue(m.isManagement() && m.write(Resource.KEY, "anything") && m.aclWrite() && m.operatorWrite());
    }

    @Test
    void writeUnderAPrefixNeedsNoWeakerRuleBelowIt() {
        Authorizer a = deny("""
                key_prefix "app/" { policy = "write" }
                key_prefix "app/ro/" { policy = "read" }
                """);
        assertTrue(a.writeUnder(Resource.KEY, "app/rw/"));
        assertFalse(a.writeUnder(Resource.KEY, "app/"));
        assertTrue(a.readUnder(Resource.KEY, "app/"));
        Authorizer d = deny("key_prefix \"\" { policy = \"read\" }\nkey \"s/secret\" { policy = \"deny\" }");
        assertFalse(d.readUnder(Resource.KEY, "s/"));
        assertTrue(d.readUnder(Resource.KEY, "t/"));
    }

    @Test
    void commandsNeedTheRightPermission() {
        KvState view = new KvState();
        view.apply(1, new Command.SessionCreate("s1", "", "n1", 0, 0, Session.Behavior.RELEASE, 0));
        var registered = view.apply(2, new Command.CatalogRegister(
                new CatalogNode("n1", "id", "10.0.0.1", Map.of(), Map.of(), 0, 0),
                new CatalogService("n1", "web-1", "web", List.of(), "", 80, Map.of(), 1, 1, false, 0, 0),
                List.of(new CatalogCheck("n1", "service:web-1", "c", HealthStatus.PASSING, "", "", "web-1", "web",
                        List.of(), "ttl", "", "", 0, 0, 0)), false));
        assertEquals(dev.weft.kvstore.state.Result.TRUE, registered.result());
        Authorizer a = deny("""
                key_prefix "app/" { policy = "write" }
                key_prefix "app/ro/" { policy = "read" }
                service "web" { policy = "write" }
                session "n1" { policy = "write" }
                """);
        assertNull(CommandAuthorizer.denied(a, new Command.KvSet("app/x", null, 0, -1), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.KvSet("app/ro/x", null, 0, -1), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.KvDelete("app/", true, -1), view), "recursive");
        assertNull(CommandAuthorizer.denied(a, new Command.KvDelete("app/rw/", true, -1), view));
        assertNull(CommandAuthorizer.denied(a, new Command.Txn(List.of(
                new TxnOp(TxnOp.Verb.GET, "app/ro/x", null, 0, 0, null),
                new TxnOp(TxnOp.Verb.SET, "app/y", null, 0, 0, null)), 0), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.Txn(List.of(
                new TxnOp(TxnOp.Verb.SET, "app/ro/x", null, 0, 0, null)), 0), view), "one op refused: all");
        assertNull(CommandAuthorizer.denied(a, new Command.SessionDestroy("s1", 0), view));
        assertNull(CommandAuthorizer.denied(a, new Command.SessionCreate("s2", "", "n1", 0, 0, null, 0), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.SessionCreate("s2", "", "n2", 0, 0, null, 0), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.KvAcquire("other", null, 0, "s1", 0), view));
        assertNull(CommandAuthorizer.denied(a, new Command.CheckStatus("n1", "service:web-1",
                HealthStatus.CRITICAL, ""), view), "a service check needs service write");
        assertNotNull(CommandAuthorizer.denied(a, new Command.NodeHeartbeat("n1"), view), "node write");
        assertNotNull(CommandAuthorizer.denied(a, new Command.CatalogDeregister("n1", null, null), view));
        assertNull(CommandAuthorizer.denied(a, new Command.CatalogDeregister("n1", "web-1", null), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.Restore(new byte[0]), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.AclTokenDelete("x"), view));
        assertNotNull(CommandAuthorizer.denied(a, new Command.Batch(List.of(
                new Command.KvSet("app/x", null, 0, -1), new Command.KvSet("b", null, 0, -1))), view));
        assertNull(CommandAuthorizer.denied(Authorizer.management(), new Command.Restore(new byte[0]), view));
        assertEquals(null, CommandAuthorizer.denied(a, new Command.CatalogRegister(
                new CatalogNode("n1", "id", "10.0.0.1", Map.of(), Map.of(), 0, 0),
                new CatalogService("n1", "web-2", "web", List.of(), "", 81, Map.of(), 1, 1, false, 0, 0),
                List.of(), true), view), "skip-node-update of a known node needs only service write");
    }
}
