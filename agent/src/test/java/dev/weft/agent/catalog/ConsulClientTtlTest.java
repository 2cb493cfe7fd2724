package dev.weft.agent.catalog;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.agent.model.NewService;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.HealthService;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance scenario with a real Consul client library (com.ecwid.consul:consul-api, the client of
 * Spring Cloud Consul before 4.x): register a service with a TTL check, pass it, discover it with ?passing.
 */
class ConsulClientTtlTest {

    @Test
    void registerWithTtlCheckPassAndDiscoverThroughPassingHealth() throws Exception {
        try (TestAgent agent = TestAgent.start("consul-client")) {
            String[] hp = agent.httpAddr().split(":");
            ConsulClient consul = new ConsulClient(hp[0], Integer.parseInt(hp[1]));

            NewService svc = new NewService();
            svc.setId("web-1");
            svc.setName("web");
            svc.setPort(8080);
            svc.setAddress("127.0.0.21");
            svc.setTags(List.of("v1", "primary"));
            svc.setMeta(Map.of("version", "1.2.3"));
            NewService.Check check = new NewService.Check();
            check.setTtl("30s");
            svc.setCheck(check);
            consul.agentServiceRegister(svc);

            HealthServicesRequest passing = HealthServicesRequest.newBuilder().setPassing(true)
                    .setQueryParams(QueryParams.DEFAULT).build();
            HealthServicesRequest all = HealthServicesRequest.newBuilder().setQueryParams(QueryParams.DEFAULT).build();
            // The TTL check starts critical (Consul's default): listed, but not passing.
            Poll.until(Duration.ofSeconds(10), () -> "web in the catalog",
                    () -> consul.getHealthServices("web", all).getValue().size() == 1);
            assertEquals(List.of(), consul.getHealthServices("web", passing).getValue());

            consul.agentCheckPass("service:web-1", "ok from the test");
            List<HealthService> found = Poll.until(Duration.ofSeconds(10), () -> "web passing", () -> {
                List<HealthService> v = consul.getHealthServices("web", passing).getValue();
                return v.isEmpty() ? null : v;
            });
            assertEquals(1, found.size());
            HealthService hs = found.get(0);
            assertEquals("web-1", hs.getService().getId());
            assertEquals("web", hs.getService().getService());
            assertEquals(8080, hs.getService().getPort());
            assertEquals("127.0.0.21", hs.getService().getAddress());
            assertEquals(List.of("v1", "primary"), hs.getService().getTags());
            assertEquals("1.2.3", hs.getService().getMeta().get("version"));
            assertEquals("consul-client", hs.getNode().getNode());
            assertTrue(hs.getChecks().stream().anyMatch(c -> c.getCheckId().equals("service:web-1")
                    && c.getStatus().name().equals("PASSING") && c.getOutput().equals("ok from the test")),
                    hs.getChecks().toString());
            assertTrue(hs.getChecks().stream().anyMatch(c -> c.getCheckId().equals("serfHealth")),
                    "the node's own health check is part of the answer");

            Response<List<HealthService>> byTag = consul.getHealthServices("web", HealthServicesRequest.newBuilder()
                    .setTag("primary").setPassing(true).setQueryParams(QueryParams.DEFAULT).build());
            assertEquals(1, byTag.getValue().size());
            assertTrue(byTag.getConsulIndex() > 0, "X-Consul-Index decoded");

            consul.agentCheckFail("service:web-1", "down");
            Poll.until(Duration.ofSeconds(10), () -> "web leaves passing after fail",
                    () -> consul.getHealthServices("web", passing).getValue().isEmpty());
            consul.agentServiceDeregister("web-1");
            Poll.until(Duration.ofSeconds(10), () -> "web gone after deregister",
                    () -> consul.getHealthServices("web", all).getValue().isEmpty());
        }
    }
}
