package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.Main;
import dev.weft.agent.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /v1/weft/network*} and {@code weft network create|ls|inspect|rm} against a real agent (no {@code -overlay}:
 * the registry only, nothing touches the kernel).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NetworkCliTest {
    private TestAgent agent;
    private ApiClient api;

    @BeforeAll
    void start() throws Exception {
        agent = TestAgent.start("network-cli-node");
        api = new ApiClient(agent.httpAddr());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    record Run(int code, String out, String err) {
    }

    private Run weft(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), Map.of("WEFT_HTTP_ADDR", agent.httpAddr())), args);
        return new Run(code, out.toString(), err.toString());
    }

    private ApiClient.Response put(String path, String body) throws InterruptedException {
        return api.put(path, body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void createListInspectDeleteThroughTheCli() throws Exception {
        Run created = weft("network", "create", "-subnet", "10.77.0.0/16", "-vni", "7001", "-mtu", "1400", "cli-blue");
        assertEquals(0, created.code(), created.err());
        assertEquals("Created network cli-blue: 10.77.0.0/16, vni 7001", created.out().strip());
        Run auto = weft("network", "create", "cli-green");
        assertEquals(0, auto.code(), auto.err());
        assertTrue(auto.out().matches("(?s)Created network cli-green: 10\\.\\d+\\.0\\.0/16, vni \\d+\\s*"), auto.out());

        Run ls = weft("network", "ls");
        assertEquals(0, ls.code(), ls.err());
        assertTrue(ls.out().lines().anyMatch(l -> l.matches("cli-blue\\s+10\\.77\\.0\\.0/16\\s+7001\\s+1400\\s+\\w+")),
                ls.out());
        assertTrue(ls.out().lines().anyMatch(l -> l.matches("cli-green\\s+\\S+\\s+\\d+\\s+auto\\s+\\w+")), ls.out());

        Run inspect = weft("network", "inspect", "cli-blue");
        assertEquals(0, inspect.code(), inspect.err());
        JsonNode n = KvCommand.parse(inspect.out().getBytes(StandardCharsets.UTF_8));
        assertEquals("10.77.0.0/16", n.path("CIDR").asText());
        assertEquals(24, n.path("SubnetLength").asInt());
        assertEquals(0, n.path("Leases").size());
        assertEquals(0, n.path("Endpoints").size());

        Run duplicate = weft("network", "create", "-subnet", "10.78.0.0/16", "cli-blue");
        assertEquals(1, duplicate.code());
        assertTrue(duplicate.err().contains("Network already exists: cli-blue") && duplicate.err().contains("(409)"),
                duplicate.err());
        Run overlapping = weft("network", "create", "-subnet", "10.77.128.0/17", "cli-red");
        assertEquals(1, overlapping.code());
        assertTrue(overlapping.err().contains("(400)"), overlapping.err());

        assertEquals(0, weft("network", "rm", "cli-blue").code());
        assertEquals(0, weft("network", "rm", "cli-green").code());
        Run gone = weft("network", "inspect", "cli-blue");
        assertEquals(1, gone.code());
        assertTrue(gone.err().contains("No network named cli-blue"), gone.err());
        assertEquals(1, weft("network", "rm", "cli-blue").code());
        assertTrue(weft("network", "ls").out().lines().noneMatch(l -> l.startsWith("cli-")));
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, weft("network").code());
        assertEquals(2, weft("network", "create").code());
        assertEquals(2, weft("network", "create", "-vni", "x", "n1").code());
    }

    @Test
    void badRequestsAnswerLikeConsulAndStoreNothing() throws Exception {
        ApiClient.Response badCidr = put("/v1/weft/network/api-x", "{\"CIDR\":\"10.1.2.3/99\"}");
        assertEquals(400, badCidr.status());
        assertTrue(badCidr.text().startsWith("Invalid CIDR"), badCidr.text());
        ApiClient.Response unknown = put("/v1/weft/network/api-x", "{\"Cidr\":\"10.90.0.0/16\"}");
        assertEquals(400, unknown.status());
        assertTrue(unknown.text().contains("unknown field \"Cidr\""), unknown.text());
        ApiClient.Response notJson = put("/v1/weft/network/api-x", "{");
        assertEquals(400, notJson.status());
        ApiClient.Response badType = put("/v1/weft/network/api-x", "{\"VNI\":\"seven\"}");
        assertEquals(400, badType.status());
        ApiClient.Response badName = put("/v1/weft/network/-bad", "");
        assertEquals(400, badName.status());
        ApiClient.Response badVni = put("/v1/weft/network/api-x", "{\"VNI\":16777216}");
        assertEquals(400, badVni.status(), badVni.text());
        ApiClient.Response noName = api.get("/v1/weft/network/");
        assertEquals(400, noName.status());
        assertEquals(404, api.get("/v1/weft/network/api-x").status());
        assertEquals(405, api.send("POST", "/v1/weft/networks", new byte[0]).status());
        for (JsonNode n : KvCommand.parse(api.get("/v1/weft/networks").body())) {
            assertTrue(!n.path("Name").asText().startsWith("api-"), "a refused request stored " + n);
        }

        ApiClient.Response ok = put("/v1/weft/network/api-x", "");
        assertEquals(200, ok.status(), ok.text());
        assertEquals(200, api.delete("/v1/weft/network/api-x").status());
    }
}
