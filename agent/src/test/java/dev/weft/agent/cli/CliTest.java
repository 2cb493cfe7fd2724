package dev.weft.agent.cli;

import dev.weft.agent.Main;
import dev.weft.agent.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static dev.weft.agent.TestAgent.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI run in-process ({@link Main#run}) against a real agent. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTest {
    private TestAgent agent;

    @BeforeAll
    void start() throws Exception {
        agent = TestAgent.start("cli-node");
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    /** Output of one CLI run. */
    record Run(int code, String out, String err) {
    }

    private Run weft(String... args) {
        return weftWith(Map.of("WEFT_HTTP_ADDR", agent.httpAddr()), new ByteArrayInputStream(new byte[0]), args);
    }

    private static Run weftWith(Map<String, String> env, InputStream in, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true), in, env), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void putGetDelete() {
        Run put = weft("kv", "put", "cli/a", "hello");
        assertEquals(0, put.code(), put.err());
        assertEquals("Success! Data written to: cli/a\n", put.out());
        Run get = weft("kv", "get", "cli/a");
        assertEquals(0, get.code());
        assertEquals("hello\n", get.out());
        Run detailed = weft("kv", "get", "-detailed", "cli/a");
        assertTrue(detailed.out().contains("ModifyIndex"), detailed.out());
        assertTrue(detailed.out().matches("(?s).*Value\\s+hello.*"), detailed.out());
        Run del = weft("kv", "delete", "cli/a");
        assertEquals(0, del.code());
        assertEquals("Success! Deleted key: cli/a\n", del.out());
        Run missing = weft("kv", "get", "cli/a");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("No key exists at: cli/a"), missing.err());
    }

    @Test
    void putFromStdinAndFlagsAndRecurseAndKeys() {
        Run put = weftWith(Map.of("WEFT_HTTP_ADDR", agent.httpAddr()),
                new ByteArrayInputStream("from stdin".getBytes(StandardCharsets.UTF_8)),
                "kv", "put", "-flags", "9", "rec/x/one", "-");
        assertEquals(0, put.code(), put.err());
        weft("kv", "put", "rec/x/two", "2");
        weft("kv", "put", "rec/y", "3");
        assertEquals("from stdin\n", weft("kv", "get", "rec/x/one").out());
        assertTrue(weft("kv", "get", "-detailed", "rec/x/one").out().matches("(?s).*Flags\\s+9.*"));
        assertEquals("rec/x/one:from stdin\nrec/x/two:2\nrec/y:3\n", weft("kv", "get", "-recurse", "rec/").out());
        assertEquals("rec/x/\nrec/y\n", weft("kv", "get", "-keys", "rec/").out());
        Run gone = weft("kv", "delete", "-recurse", "rec/");
        assertEquals("Success! Deleted keys with prefix: rec/\n", gone.out());
        assertEquals("", weft("kv", "get", "-recurse", "rec/").out());
    }

    @Test
    void casFailureExitsOne() {
        weft("kv", "put", "cas/k", "v1");
        Run stale = weft("kv", "put", "-cas", "-modify-index", "999999", "cas/k", "v2");
        assertEquals(1, stale.code());
        assertTrue(stale.err().contains("CAS failed"), stale.err());
        Run delStale = weft("kv", "delete", "-cas", "-modify-index", "999999", "cas/k");
        assertEquals(1, delStale.code());
        assertEquals("v1\n", weft("kv", "get", "cas/k").out());
    }

    @Test
    void exportImportRoundTrip(@TempDir Path tmp) throws Exception {
        weft("kv", "put", "exp/a", "alpha");
        weft("kv", "put", "-flags", "3", "exp/b/c", "gamma");
        Run export = weft("kv", "export", "exp/");
        assertEquals(0, export.code(), export.err());
        assertTrue(export.out().contains("\"key\": \"exp/a\""), export.out());
        assertTrue(export.out().contains("\"flags\": 3"), export.out());

        assertEquals(0, weft("kv", "delete", "-recurse", "exp/").code());
        Path file = tmp.resolve("export.json");
        Files.writeString(file, export.out());
        Run imported = weft("kv", "import", "@" + file);
        assertEquals(0, imported.code(), imported.err());
        assertEquals("Imported: exp/a\nImported: exp/b/c\n", imported.out());
        assertEquals(export.out(), weft("kv", "export", "exp/").out());

        assertEquals(0, weft("kv", "delete", "-recurse", "exp/").code());
        Run fromStdin = weftWith(Map.of("WEFT_HTTP_ADDR", agent.httpAddr()),
                new ByteArrayInputStream(export.out().getBytes(StandardCharsets.UTF_8)), "kv", "import", "-");
        assertEquals(0, fromStdin.code(), fromStdin.err());
        assertEquals("gamma\n", weft("kv", "get", "exp/b/c").out());
    }

    @Test
    void importChunksLargeInputIntoSeveralTransactions() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 300; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"key\":\"bulk/").append(i).append("\",\"flags\":0,\"value\":\"dg==\"}");
        }
        Run r = weftWith(Map.of("WEFT_HTTP_ADDR", agent.httpAddr()),
                new ByteArrayInputStream(sb.append(']').toString().getBytes(StandardCharsets.UTF_8)), "kv", "import");
        assertEquals(0, r.code(), r.err());
        assertEquals(300, weft("kv", "get", "-keys", "bulk/").out().lines().count());
    }

    @Test
    void watchPrintsChangesAsTheyHappen() throws Exception {
        weft("kv", "put", "watch/a", "1");
        StringWriter out = new StringWriter();
        CliIo io = new CliIo(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
                new ByteArrayInputStream(new byte[0]), Map.of("WEFT_HTTP_ADDR", agent.httpAddr()));
        int[] code = {-1};
        Thread watcher = new Thread(() -> code[0] = Main.run(io, "kv", "watch", "watch/"), "kv-watch-test");
        watcher.start();
        try {
            awaitTrue("initial state printed", Duration.ofSeconds(10), () -> out.toString().contains("set watch/a 1"));
            weft("kv", "put", "watch/b", "2");
            awaitTrue("new key printed", Duration.ofSeconds(10), () -> out.toString().contains("set watch/b 2"));
            weft("kv", "delete", "watch/a");
            awaitTrue("delete printed", Duration.ofSeconds(10), () -> out.toString().contains("delete watch/a"));
        } finally {
            watcher.interrupt();
            watcher.join(10_000);
        }
        assertFalse(watcher.isAlive(), "watch stops when interrupted");
        assertEquals(0, code[0]);
    }

    @Test
    void usageErrorsExitTwo() {
        Run unknown = weft("kv", "get", "-bogus", "k");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("Usage: weft kv get"), unknown.err());
        assertEquals(2, weft("kv").code());
        assertEquals(2, weft().code());
        assertEquals(2, weft("kv", "put", "-cas", "k", "v").code(), "-cas needs -modify-index");
        assertEquals(2, weft("kv", "get").code(), "KEY is required without -recurse");
        assertEquals(2, weft("nonsense").code());
        Run agentNoDataDir = weft("agent", "-server");
        assertEquals(2, agentNoDataDir.code());
        assertTrue(agentNoDataDir.err().contains("-data-dir"), agentNoDataDir.err());
        Run tinySegments = weft("agent", "-dev", "-raft-log-segment-size", "1000");
        assertEquals(2, tinySegments.code());
        assertTrue(tinySegments.err().contains("-raft-log-segment-size must be at least 65536"), tinySegments.err());
    }

    @Test
    void helpAndVersion() {
        Run help = weft("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("kv"));
        Run kvHelp = weft("kv", "put", "--help");
        assertEquals(0, kvHelp.code());
        assertTrue(kvHelp.out().contains("-modify-index"));
        Run version = weft("version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("weft v"), version.out());
    }

    @Test
    void clusterCommands(@TempDir Path tmp) {
        Run members = weft("members");
        assertEquals(0, members.code(), members.err());
        assertTrue(members.out().contains("cli-node"), members.out());
        assertTrue(members.out().contains("alive"), members.out());
        Run peers = weft("operator", "raft", "list-peers");
        assertEquals(0, peers.code(), peers.err());
        assertTrue(peers.out().contains("leader"), peers.out());
        assertEquals(2, weft("operator", "raft", "remove-peer").code(), "needs -id or -address");
        assertEquals(1, weft("operator", "raft", "remove-peer", "-id", "nobody").code());

        weft("kv", "put", "snapcli/k", "before");
        Path file = tmp.resolve("state.snap");
        Run save = weft("snapshot", "save", file.toString());
        assertEquals(0, save.code(), save.err());
        weft("kv", "put", "snapcli/k", "after");
        Run restore = weft("snapshot", "restore", file.toString());
        assertEquals(0, restore.code(), restore.err());
        assertEquals("before\n", weft("kv", "get", "snapcli/k").out());
    }

    @Test
    void addressComesFromOptionOrEnvironment() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Run refused = weftWith(Map.of("WEFT_HTTP_ADDR", "127.0.0.1:" + closedPort),
                new ByteArrayInputStream(new byte[0]), "kv", "get", "x");
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("connection refused"), refused.err());

        weft("kv", "put", "addr/k", "v");
        Run viaOption = weftWith(Map.of("WEFT_HTTP_ADDR", "127.0.0.1:" + closedPort),
                new ByteArrayInputStream(new byte[0]), "kv", "get", "-http-addr", agent.httpAddr(), "addr/k");
        assertEquals(0, viaOption.code(), viaOption.err());
        Run viaConsulEnv = weftWith(Map.of("CONSUL_HTTP_ADDR", "http://" + agent.httpAddr()),
                new ByteArrayInputStream(new byte[0]), "kv", "get", "addr/k");
        assertEquals("v\n", viaConsulEnv.out());
    }
}
