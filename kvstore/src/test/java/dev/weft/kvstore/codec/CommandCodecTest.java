package dev.weft.kvstore.codec;

import dev.weft.kvstore.state.AclPolicy;
import dev.weft.kvstore.state.AclToken;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.Session;
import dev.weft.kvstore.state.TxnOp;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CommandCodecTest {

    private static final byte[] V = "value\u00e9".getBytes(StandardCharsets.UTF_8);

    /** One example of every command type; the test below checks this list covers the sealed hierarchy. */
    static List<Command> examples() {
        return List.of(
                new Command.KvSet("k/é", V, Long.MAX_VALUE, 42),
                new Command.KvDelete("k/", true, Command.NO_CAS),
                new Command.KvAcquire("lock", V, 1, "sess", 123),
                new Command.KvRelease("lock", new byte[0], 2, "sess"),
                new Command.Txn(List.of(new TxnOp(TxnOp.Verb.CAS, "a", V, 3, 9, null),
                        new TxnOp(TxnOp.Verb.DELETE_TREE, "", null, 0, 0, "s")), 77),
                new Command.SessionCreate("id", "name", "node", 10_000, 15_000, Session.Behavior.DELETE, 5),
                new Command.SessionRenew("id", 6),
                new Command.SessionDestroy("id", 7),
                new Command.SessionExpire("id", 8),
                new Command.Restore(V),
                new Command.ReapTombstones(99),
                new Command.Batch(List.of(new Command.KvSet("a", V, 0, Command.NO_CAS),
                        new Command.KvDelete("b", false, 3))),
                new Command.CatalogRegister(
                        new CatalogNode("n1", "id-1", "10.0.0.1", Map.of("lan", "10.0.0.1"), Map.of("rack", "r1"), 0, 0),
                        new CatalogService("n1", "web-1", "web", List.of("a", "b"), "10.0.0.2", 8080,
                                Map.of("v", "1"), 3, 1, true, 0, 0),
                        List.of(new CatalogCheck("n1", "service:web-1", "web check", HealthStatus.WARNING, "notes",
                                "out", "web-1", "web", List.of("a"), "http", "10s", "1s", 60_000, 0, 0)),
                        true),
                new Command.CatalogDeregister("n1", "web-1", null),
                new Command.CheckStatus("n1", "serfHealth", HealthStatus.CRITICAL, "gone"),
                new Command.NodeHeartbeat("n1"),
                new Command.AclBootstrap(new AclPolicy("p-1", "global-management", "d", "", 0, 0),
                        new AclToken("a-1", "hash", "boot", List.of("p-1"), false, 1234, 0, 0),
                        new AclToken("a-2", "hash2", "anon", List.of(), false, 1234, 0, 0)),
                new Command.AclPolicySet(new AclPolicy("p-2", "kv", "", "key_prefix \"a/\" { policy = \"read\" }",
                        0, 0)),
                new Command.AclPolicyDelete("p-2"),
                new Command.AclTokenSet(new AclToken("a-3", "h3", "", List.of("p-2", "p-1"), false, 5, 0, 0)),
                new Command.AclTokenDelete("a-3"));
    }

    @Test
    void everyCommandTypeRoundTrips() {
        Set<Class<?>> covered = examples().stream().map(Object::getClass).collect(Collectors.toSet());
        assertEquals(Set.of(Command.class.getPermittedSubclasses()), covered, "examples cover every command");
        for (Command c : examples()) {
            byte[] bytes = CommandCodec.encode(c);
            Command back = CommandCodec.decode(bytes);
            assertArrayEquals(bytes, CommandCodec.encode(back), c.getClass().getSimpleName());
            assertEquals(c.getClass(), back.getClass());
        }
        Command.KvSet s = (Command.KvSet) CommandCodec.decode(CommandCodec.encode(examples().get(0)));
        assertEquals("k/é", s.key());
        assertArrayEquals(V, s.value());
        assertEquals(Long.MAX_VALUE, s.flags());
        assertEquals(42, s.cas());
    }

    @Test
    void resultsRoundTrip() {
        List<Result> results = List.of(Result.TRUE, Result.FALSE,
                new Result.SessionValue(new Session("i", "n", "node", 1, 2, Session.Behavior.RELEASE, 3, 4, 5)),
                new Result.SessionValue(null),
                new Result.Txn(List.of(new KvEntry("k", V, 1, 2, 3, 4, "s"), new KvEntry("e", null, 0, 1, 1, 0, null)),
                        List.of()),
                new Result.Txn(List.of(), List.of(new Result.TxnError(3, "bad"))),
                new Result.Invalid("why"),
                new Result.Batch(List.of(Result.TRUE, new Result.Invalid("x"), new Result.SessionValue(null))));
        for (Result r : results) {
            Result back = CommandCodec.decodeResult(CommandCodec.encodeResult(r));
            assertArrayEquals(CommandCodec.encodeResult(r), CommandCodec.encodeResult(back));
        }
        assertEquals(Result.TRUE, CommandCodec.decodeResult(CommandCodec.encodeResult(Result.TRUE)));
    }

    @Test
    void malformedInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(new byte[]{(byte) 200}));
        byte[] ok = CommandCodec.encode(examples().get(0));
        for (int cut = 1; cut < ok.length; cut++) {
            byte[] truncated = Arrays.copyOf(ok, cut);
            assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(truncated), "cut at " + cut);
        }
        byte[] trailing = Arrays.copyOf(ok, ok.length + 1);
        assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(trailing));
        // A huge length prefix must not allocate.
        byte[] huge = {1, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(huge));
    }
}
