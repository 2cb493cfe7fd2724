package dev.weft.agent.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Without a leader: writes and default reads answer 500 "No cluster leader"; ?stale reads keep working. */
class NoLeaderTest {
    private InMemoryStore store;
    private HttpApiServer server;
    private Http http;

    @BeforeEach
    void start() throws Exception {
        store = new InMemoryStore();
        AgentInfo info = new AgentInfo("mem-node", "dc1", true, "test", "", "127.0.0.1", 1);
        server = HttpApiServer.start(store, info, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                "127.0.0.1", 0);
        http = new Http("http://127.0.0.1:" + server.port());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void staleReadsWorkWithoutQuorum() throws Exception {
        assertEquals("true", http.put("/v1/kv/k", "v").body());
        store.setLeader(false);

        Http.Resp write = http.put("/v1/kv/k", "w");
        assertEquals(500, write.status());
        assertEquals("No cluster leader", write.body());

        Http.Resp read = http.get("/v1/kv/k");
        assertEquals(500, read.status());
        assertEquals("No cluster leader", read.body());
        assertEquals(500, http.get("/v1/kv/k?consistent").status());

        Http.Resp stale = http.get("/v1/kv/k?stale");
        assertEquals(200, stale.status());
        assertEquals("false", stale.header("X-Consul-KnownLeader"));
        assertEquals("0", stale.header("X-Consul-LastContact"));
        assertEquals("stale", stale.header("X-Consul-Effective-Consistency"));

        assertEquals("\"\"", http.get("/v1/status/leader").body());
        assertEquals(500, http.put("/v1/session/create", "").status());
    }
}
