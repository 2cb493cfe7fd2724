package dev.weft.agent.cli;

import dev.weft.agent.Main;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code weft leave} ({@code PUT /v1/agent/leave}): the agent answers, then stops and tells its listeners. */
class LeaveCliTest {
    @Test
    void leaveStopsTheAgent() throws Exception {
        try (TestAgent agent = TestAgent.start("leave-cli-node")) {
            AtomicBoolean closed = new AtomicBoolean();
            agent.agent().onClose(() -> closed.set(true));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                    new ByteArrayInputStream(new byte[0]), Map.of("WEFT_HTTP_ADDR", agent.httpAddr())), "leave");
            assertEquals(0, code, err.toString());
            assertEquals("Graceful leave complete", out.toString().strip());
            Poll.until(Duration.ofSeconds(20), () -> "the agent to stop after leaving",
                    () -> closed.get() ? true : null);
            ApiClient api = new ApiClient(agent.httpAddr());
            CliFailure refused = org.junit.jupiter.api.Assertions.assertThrows(CliFailure.class,
                    () -> api.get("/v1/agent/self"));
            assertTrue(refused.getMessage().contains("Error"), refused.getMessage());
        }
    }
}
