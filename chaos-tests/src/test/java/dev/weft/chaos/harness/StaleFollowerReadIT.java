package dev.weft.chaos.harness;

import dev.weft.chaos.check.Linearizability;
import dev.weft.chaos.history.History;
import dev.weft.chaos.history.History.Call;
import dev.weft.chaos.history.History.Pending;
import dev.weft.kvstore.testing.Requires;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checker catches a real bug: a read served by a cut-off follower from its own state, without ReadIndex
 * (weft's {@code ?stale}), recorded as if it were a linearizable read, makes a real history non-linearizable.
 * The same member's default read, which goes through the leader's ReadIndex, never returns the old value.
 */
class StaleFollowerReadIT {
    private Toxiproxy toxiproxy;
    private Cluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        if (toxiproxy != null) {
            toxiproxy.close();
        }
    }

    @Test
    void readingFromAnIsolatedFollowerWithoutReadIndexIsCaught() throws IOException {
        Requires.that(Toxiproxy.findServer() != null, "the Toxiproxy server (go install "
                + "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, or TOXIPROXY_SERVER)");
        Path jar = Path.of(System.getProperty("weft.jar", "../agent/target/weft.jar"));
        Requires.that(Files.isRegularFile(jar), "the agent jar " + jar);
        Path dir = Path.of(System.getProperty("basedir", "."), "target", "stale-follower-read",
                Long.toString(System.currentTimeMillis()));
        Files.createDirectories(dir);
        toxiproxy = Toxiproxy.start(Toxiproxy.findServer(), dir.resolve("toxiproxy.log"));
        EventLog events = new EventLog(dir.resolve("events.log"), System.out);
        cluster = Cluster.start(toxiproxy, dir, 3, jar, Cluster.Settings.DEFAULT, events);
        Member leader = cluster.awaitAgreedLeader(Duration.ofSeconds(90));
        Member follower = cluster.members().stream().filter(m -> m != leader).findFirst().orElseThrow();
        Http http = new Http(Duration.ofSeconds(5));
        History h = new History();
        String key = "reg/x";

        write(h, 0, leader, http, key, "v1");
        // the follower has applied v1 before it is cut off
        Deadline.poll(Duration.ofSeconds(10), follower.name + " applying v1", () ->
                "v1".equals(http.get(follower.httpPort, "/v1/kv/" + key + "?stale&raw").body()) ? Boolean.TRUE : null);
        cluster.isolate(follower);
        events.log("test", "isolated " + follower.name);
        write(h, 1, leader, http, key, "v2");

        // The buggy read: the follower's own state, no ReadIndex, recorded as a linearizable read.
        Pending stale = h.invoke(Call.read(2, key).on(follower.name));
        Http.Response r = http.get(follower.httpPort, "/v1/kv/" + key + "?stale&raw");
        assertEquals(200, r.status());
        assertEquals("v1", r.body(), "the isolated follower still has the old value");
        stale.read(r.body(), null);

        // The correct read on the same member: ReadIndex through the leader, which it cannot reach.
        Http.Response proper = new Http(Duration.ofSeconds(10)).get(follower.httpPort, "/v1/kv/" + key + "?raw");
        assertNotEquals("v1", proper.status() == 200 ? proper.body() : null,
                "a default read must never return the overwritten value");

        Linearizability.Result result = new Linearizability().check(h);
        assertEquals(Linearizability.Verdict.VIOLATION, result.verdict(), result.describe());
        assertTrue(result.describe().contains("v1"), result.describe());

        // Without the buggy read the same history is fine.
        List<dev.weft.chaos.history.Operation> honest = h.operations().stream()
                .filter(op -> op.process() != 2).toList();
        assertEquals(Linearizability.Verdict.LINEARIZABLE, new Linearizability().check(honest).verdict());
    }

    private static void write(History h, int process, Member via, Http http, String key, String value)
            throws IOException {
        Pending op = h.invoke(Call.write(process, key, value).on(via.name));
        Http.Response r = http.put(via.httpPort, "/v1/kv/" + key, value);
        assertEquals(200, r.status(), r.body());
        op.ok();
    }
}
