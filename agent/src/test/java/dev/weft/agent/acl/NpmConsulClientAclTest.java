package dev.weft.agent.acl;

import dev.weft.agent.TestAgent;
import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.weft.agent.acl.AclHttp.call;
import static dev.weft.agent.acl.AclHttp.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Consul clients that use tokens work unchanged: the npm {@code consul} client (2.0.1) does kv.set/kv.get with a
 * token against a real agent with ACLs (default deny), and its write without a token is refused with 403. Needs
 * node and npm, and the npm registry (or npm's cache) for {@code npm install}; skipped with a message otherwise,
 * failing when CI=true.
 */
class NpmConsulClientAclTest {
    private static final String CONSUL_NPM = "consul@2.0.1";

    @Test
    void npmConsulClientWithToken() throws Exception {
        String node = Requires.command("node");
        String npm = Requires.command("npm");
        Path dir = Path.of("target", "npm-consul").toAbsolutePath();
        Files.createDirectories(dir);
        if (!Files.isDirectory(dir.resolve("node_modules/consul"))) {
            Run install = run(dir, 180, npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                    dir.toString(), CONSUL_NPM);
            Requires.that(install.code() == 0, "npm install " + CONSUL_NPM + " (registry or cache): " + install.out());
        }
        Files.copy(Path.of("src/test/node/consul-kv-token.js"), dir.resolve("consul-kv-token.js"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        try (TestAgent agent = TestAgent.startWithAcl("npm-acl", new AclConfig(true, false, ""))) {
            String base = agent.baseUrl();
            String mgmt = ok(call(base, null, "PUT", "/v1/acl/bootstrap", null), "bootstrap").json()
                    .path("SecretID").asText();
            AclHttp.policy(base, mgmt, "npm", "key_prefix \"npm/\" { policy = \"write\" }");
            String token = AclHttp.token(base, mgmt, "npm", null);
            var addr = agent.agent().httpAddr().split(":");
            Run r = run(dir, 60, node, dir.resolve("consul-kv-token.js").toString(), addr[0], addr[1], token);
            assertEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("SET-GET ok"), r.out());
            assertTrue(r.out().contains("KEYS [\"npm/hello\"]"), r.out());
            assertTrue(r.out().contains("DENIED") && r.out().contains("Permission denied"), r.out());
            assertEquals("world", call(base, mgmt, "GET", "/v1/kv/npm/hello?raw", null).body());
        }
    }

    private record Run(int code, String out) {
    }

    private static Run run(Path dir, int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "run-", ".log");
        Process p = new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Run(-1, "timed out after " + timeoutSeconds + " s");
            }
            return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
