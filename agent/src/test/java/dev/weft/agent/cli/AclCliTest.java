package dev.weft.agent.cli;

import dev.weft.agent.Main;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.acl.AclConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code weft acl bootstrap|policy|token} and the token from -token, WEFT_HTTP_TOKEN or CONSUL_HTTP_TOKEN. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AclCliTest {
    private static final Pattern SECRET = Pattern.compile("(?m)^SecretID:\\s+(\\S+)$");
    private TestAgent agent;

    @BeforeAll
    void start() throws Exception {
        agent = TestAgent.startWithAcl("acl-cli", new AclConfig(true, false, ""));
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    record Run(int code, String out, String err) {
    }

    private Run weft(Map<String, String> extraEnv, String... args) {
        Map<String, String> env = new HashMap<>(extraEnv);
        env.put("WEFT_HTTP_ADDR", agent.httpAddr());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), env), args);
        return new Run(code, out.toString(), err.toString());
    }

    private static String secret(Run r) {
        Matcher m = SECRET.matcher(r.out());
        assertTrue(m.find(), r.out());
        return m.group(1);
    }

    @Test
    void bootstrapThenTokensFromEnvironmentAndOption() {
        Run boot = weft(Map.of(), "acl", "bootstrap");
        assertEquals(0, boot.code(), boot.err());
        assertTrue(boot.out().contains("AccessorID:"), boot.out());
        assertTrue(boot.out().contains("00000000-0000-0000-0000-000000000001 - global-management"), boot.out());
        String mgmt = secret(boot);

        Run again = weft(Map.of(), "acl", "bootstrap");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("ACL bootstrap no longer allowed"), again.err());

        Run denied = weft(Map.of(), "kv", "put", "cli/a", "1");
        assertEquals(1, denied.code());
        assertTrue(denied.err().contains("Permission denied"), denied.err());

        assertEquals(0, weft(Map.of("CONSUL_HTTP_TOKEN", mgmt), "kv", "put", "cli/a", "1").code());
        Run got = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "kv", "get", "cli/a");
        assertEquals(0, got.code(), got.err());
        assertEquals("1\n", got.out());
        assertEquals(0, weft(Map.of(), "kv", "get", "-token", mgmt, "cli/a").code());
        assertEquals(1, weft(Map.of("WEFT_HTTP_TOKEN", "wrong"), "kv", "get", "cli/a").code(),
                "WEFT_HTTP_TOKEN is preferred over CONSUL_HTTP_TOKEN");

        Run policy = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "policy", "create", "-name", "cli-read",
                "-rules", "key_prefix \"cli/\" { policy = \"read\" }");
        assertEquals(0, policy.code(), policy.err());
        Run token = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "token", "create", "-description", "reader",
                "-policy-name", "cli-read");
        assertEquals(0, token.code(), token.err());
        String reader = secret(token);
        assertEquals(0, weft(Map.of("WEFT_HTTP_TOKEN", reader), "kv", "get", "cli/a").code());
        assertEquals(1, weft(Map.of("WEFT_HTTP_TOKEN", reader), "kv", "put", "cli/a", "2").code());
        Run list = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "token", "list");
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().contains("reader") && !list.out().contains(reader), list.out());
        Run policies = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "policy", "list");
        assertTrue(policies.out().contains("cli-read:"), policies.out());

        assertEquals(2, weft(Map.of(), "agent", "-dev", "-acl-default-policy", "deny").code(),
                "ACL flags without -acl-enabled are a usage error");
        assertEquals(2, weft(Map.of(), "agent", "-dev", "-acl-enabled", "-acl-default-policy", "maybe").code());

        Run self = weft(Map.of("WEFT_HTTP_TOKEN", reader), "acl", "token", "read", "-self");
        assertEquals(0, self.code(), self.err());
        assertEquals(reader, secret(self));
        assertTrue(self.out().contains(" - cli-read"), self.out());
        String accessor = self.out().lines().filter(l -> l.startsWith("AccessorID:")).findFirst().orElseThrow()
                .substring("AccessorID:".length()).strip();
        Run byId = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "token", "read", "-id", accessor);
        assertEquals("<hidden>", secret(byId));
        assertEquals(2, weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "token", "read").code(), "-id or -self");
        assertEquals(0, weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "token", "delete", "-id", accessor).code());
        Run gone = weft(Map.of("WEFT_HTTP_TOKEN", reader), "kv", "get", "cli/a");
        assertEquals(1, gone.code());
        assertTrue(gone.err().contains("ACL not found"), gone.err());
        assertEquals(0, weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "policy", "delete", "-name", "cli-read").code());
        assertTrue(!weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "policy", "list").out().contains("cli-read:"));

        Run bad = weft(Map.of("WEFT_HTTP_TOKEN", mgmt), "acl", "policy", "create", "-name", "bad", "-rules",
                "nonsense = \"x\"");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("line 1"), bad.err());
    }
}
