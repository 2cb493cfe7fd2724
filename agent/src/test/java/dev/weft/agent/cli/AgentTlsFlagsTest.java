package dev.weft.agent.cli;

import dev.weft.agent.Main;
import dev.weft.agent.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code weft agent}'s TLS flags are checked before anything starts: unusable files are usage errors (exit 2). */
class AgentTlsFlagsTest {
    @TempDir
    Path dir;

    private void assertUsage(String fragment, String... tlsArgs) {
        List<String> args = new ArrayList<>(List.of("agent", "-server", "-data-dir", dir.resolve("data").toString(),
                "-http-port", "0", "-raft-port", "0", "-dns-port", "-1", "-registrator=false"));
        args.addAll(List.of(tlsArgs));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), Map.of()), args.toArray(String[]::new));
        assertEquals(2, code, "stderr: " + err);
        assertTrue(err.toString().contains(fragment), "stderr should mention '" + fragment + "': " + err);
    }

    @Test
    void unusableTlsFilesAreUsageErrors() throws Exception {
        TestPki.Written ca = TestPki.ca(dir, "ca");
        TestPki.Written server = TestPki.server(ca, dir, "server");
        TestPki.Written client = TestPki.client(ca, dir, "client");
        TestPki.Written foreignCa = TestPki.ca(dir.resolve("foreign"), "ca");
        TestPki.Written foreign = TestPki.server(foreignCa, dir.resolve("foreign"), "server");

        assertUsage("missing -ca-file, -cert-file, -key-file", "-verify-incoming");
        assertUsage("missing -key-file", "-ca-file", ca.cert().toString(), "-cert-file", server.cert().toString());
        assertUsage("cannot read the CA file", "-ca-file", dir.resolve("nope.pem").toString(), "-cert-file",
                server.cert().toString(), "-key-file", server.key().toString());
        assertUsage("does not belong to the certificate", "-ca-file", ca.cert().toString(), "-cert-file",
                server.cert().toString(), "-key-file", client.key().toString());
        assertUsage("is not signed by the CA", "-ca-file", ca.cert().toString(), "-cert-file",
                foreign.cert().toString(), "-key-file", foreign.key().toString(), "-verify-incoming");
        assertUsage("a server needs a server certificate", "-ca-file", ca.cert().toString(), "-cert-file",
                client.cert().toString(), "-key-file", client.key().toString(), "-verify-outgoing");
        assertUsage("-https-port out of range", "-ca-file", ca.cert().toString(), "-cert-file",
                server.cert().toString(), "-key-file", server.key().toString(), "-https-port", "70000");
    }
}
