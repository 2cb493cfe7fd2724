package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.Main;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.testing.Poll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code weft catalog ...} and {@code weft services ...} run in-process ({@link Main#run}) against a real agent. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CatalogCliTest {
    private TestAgent agent;

    @TempDir
    Path dir;

    @BeforeAll
    void start() throws Exception {
        agent = TestAgent.start("catalog-cli-node");
        ApiClient api = new ApiClient(agent.httpAddr());
        register(api, """
                {"Node": "cli-n1", "ID": "0d6f8a51-7c3e-4e0b-9d1a-2f6c5b8e9a10", "Address": "10.20.0.1",
                 "NodeMeta": {"rack": "r1"},
                 "Service": {"ID": "cli-web-1", "Service": "cli-web", "Tags": ["v1", "primary"], "Port": 8080},
                 "Check": {"CheckID": "cli-web-1-ok", "ServiceID": "cli-web-1", "Status": "passing"}}""");
        register(api, """
                {"Node": "cli-n1", "SkipNodeUpdate": true, "Service": {"Service": "cli-db", "Port": 5432}}""");
        register(api, """
                {"Node": "cli-n2", "Address": "10.20.0.2",
                 "Service": {"ID": "cli-web-2", "Service": "cli-web", "Tags": ["v2"], "Address": "10.20.9.9",
                             "Port": 8081},
                 "Check": {"CheckID": "cli-web-2-bad", "ServiceID": "cli-web-2", "Status": "critical"}}""");
    }

    private static void register(ApiClient api, String json) throws InterruptedException {
        ApiClient.Response r = api.put("/v1/catalog/register", json.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.status(), r.text());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    /** Output of one CLI run. */
    record Run(int code, String out, String err) {
        List<String> lines() {
            return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n"));
        }
    }

    private Run weft(String... args) {
        return weftWith(new ByteArrayInputStream(new byte[0]), args);
    }

    private Run weftWith(InputStream in, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true), in,
                Map.of("WEFT_HTTP_ADDR", agent.httpAddr())), args);
        return new Run(code, out.toString(), err.toString());
    }

    // ---- catalog -----------------------------------------------------------------------------------------

    @Test
    void catalogServicesListsNamesSorted() {
        Run r = weft("catalog", "services");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.lines();
        assertTrue(lines.containsAll(List.of("cli-db", "cli-web")), r.out());
        assertTrue(lines.indexOf("cli-db") < lines.indexOf("cli-web"), "sorted: " + r.out());
    }

    @Test
    void catalogServicesWithTagsAndOfOneNode() {
        Run tags = weft("catalog", "services", "-tags");
        assertEquals(0, tags.code(), tags.err());
        assertTrue(tags.lines().stream().anyMatch(l -> l.matches("cli-web\\s+primary,v1,v2")), tags.out());
        assertTrue(tags.lines().contains("cli-db"), "no tags, no trailing spaces: " + tags.out());

        Run ofNode = weft("catalog", "services", "-node", "cli-n1");
        assertEquals(0, ofNode.code(), ofNode.err());
        assertEquals("cli-db\ncli-web\n", ofNode.out());

        Run unknown = weft("catalog", "services", "-node", "no-such-node");
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("No node named no-such-node"), unknown.err());
    }

    @Test
    void catalogNodesAsATable() {
        Run r = weft("catalog", "nodes");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.lines().get(0).matches("Node\\s+ID\\s+Address\\s+DC"), r.out());
        assertTrue(r.lines().stream().anyMatch(l -> l.matches("cli-n1\\s+0d6f8a51\\s+10\\.20\\.0\\.1\\s+dc1")),
                r.out());

        Run web = weft("catalog", "nodes", "-service", "cli-web");
        assertEquals(3, web.lines().size(), web.out());
        assertTrue(web.lines().get(1).startsWith("cli-n1 "), web.out());
        assertTrue(web.lines().get(2).startsWith("cli-n2 "), web.out());

        Run detailed = weft("catalog", "nodes", "-detailed", "-service", "cli-db");
        assertEquals(0, detailed.code(), detailed.err());
        assertTrue(detailed.lines().get(0).matches("Node\\s+ID\\s+Address\\s+DC\\s+TaggedAddresses\\s+Meta"),
                detailed.out());
        assertTrue(detailed.lines().get(1).matches(
                "cli-n1\\s+0d6f8a51-7c3e-4e0b-9d1a-2f6c5b8e9a10\\s+10\\.20\\.0\\.1\\s+dc1\\s+rack=r1"),
                detailed.out());

        Run none = weft("catalog", "nodes", "-service", "no-such-service");
        assertEquals(0, none.code());
        assertEquals("", none.out());
        assertTrue(none.err().contains("No nodes match"), none.err());
    }

    @Test
    void catalogServiceShowsInstancesAndHealth() {
        Run r = weft("catalog", "service", "cli-web");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.lines();
        assertEquals(3, lines.size(), r.out());
        assertTrue(lines.get(0).matches("Node\\s+ServiceID\\s+Address\\s+Port\\s+Tags\\s+Status"), r.out());
        assertTrue(lines.get(1).matches("cli-n1\\s+cli-web-1\\s+10\\.20\\.0\\.1\\s+8080\\s+v1,primary\\s+passing"),
                "the node's address when the service has none: " + r.out());
        assertTrue(lines.get(2).matches("cli-n2\\s+cli-web-2\\s+10\\.20\\.9\\.9\\s+8081\\s+v2\\s+critical"), r.out());

        Run passing = weft("catalog", "service", "-passing", "cli-web");
        assertEquals(2, passing.lines().size(), passing.out());
        assertTrue(passing.lines().get(1).startsWith("cli-n1 "), passing.out());

        Run tagged = weft("catalog", "service", "-tag", "V2", "cli-web");
        assertEquals(2, tagged.lines().size(), tagged.out());
        assertTrue(tagged.lines().get(1).startsWith("cli-n2 "), tagged.out());

        Run none = weft("catalog", "service", "no-such-service");
        assertEquals(1, none.code());
        assertTrue(none.err().contains("No instances of service no-such-service"), none.err());
    }

    @Test
    void catalogUsageErrorsExitTwo() {
        assertEquals(2, weft("catalog").code());
        assertEquals(2, weft("catalog", "service").code(), "NAME is required");
        assertEquals(2, weft("catalog", "nodes", "-bogus").code());
        Run help = weft("catalog", "services", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("-tags"), help.out());
    }

    @Test
    void catalogFailsWithOneWhenTheAgentIsUnreachable() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Run r = weft("catalog", "services", "-http-addr", "127.0.0.1:" + port);
        assertEquals(1, r.code());
        assertTrue(r.err().contains("Error connecting to weft agent"), r.err());
    }

    // ---- services register / deregister ------------------------------------------------------------------

    @Test
    void servicesRegisterAndDeregisterThroughTheAgent() throws Exception {
        ApiClient api = new ApiClient(agent.httpAddr());
        Path file = Files.writeString(dir.resolve("web.json"), """
                {"service": {"name": "cli-reg", "id": "cli-reg-1", "port": 9000, "tags": ["blue"],
                             "meta": {"team": "a"}}}""");
        Run r = weft("services", "register", file.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("Registered service: cli-reg\n", r.out());
        JsonNode local = KvCommand.JSON.readTree(api.get("/v1/agent/service/cli-reg-1").body());
        assertEquals("cli-reg", local.get("Service").asText());
        assertEquals(9000, local.get("Port").asInt());
        assertEquals("[\"blue\"]", local.get("Tags").toString());
        Poll.until(Duration.ofSeconds(20), () -> "cli-reg in the catalog",
                () -> weft("catalog", "service", "cli-reg").out().contains("cli-reg-1"));
        Run shown = weft("catalog", "service", "cli-reg");
        assertTrue(shown.lines().get(1).matches("catalog-cli-node\\s+cli-reg-1\\s+\\S+\\s+9000\\s+blue\\s+\\w+"),
                shown.out());

        Run stdin = weftWith(new ByteArrayInputStream("""
                {"Services": [{"Name": "cli-reg-a"}, {"Name": "cli-reg-b", "ID": "cli-reg-b-1"}]}"""
                .getBytes(StandardCharsets.UTF_8)), "services", "register", "-");
        assertEquals(0, stdin.code(), stdin.err());
        assertEquals("Registered service: cli-reg-a\nRegistered service: cli-reg-b\n", stdin.out());
        assertEquals(200, api.get("/v1/agent/service/cli-reg-b-1").status());

        Run gone = weft("services", "deregister", "cli-reg-1");
        assertEquals(0, gone.code(), gone.err());
        assertEquals("Deregistered service: cli-reg-1\n", gone.out());
        assertEquals(404, api.get("/v1/agent/service/cli-reg-1").status());
        Poll.until(Duration.ofSeconds(20), () -> "cli-reg gone from the catalog",
                () -> weft("catalog", "service", "cli-reg").code() == 1);
        assertEquals(0, weft("services", "deregister", "-id", "cli-reg-b-1").code());

        Run again = weft("services", "deregister", "cli-reg-1");
        assertEquals(1, again.code());
        assertTrue(again.err().contains("Unknown service ID"), again.err());

        Path invalid = Files.writeString(dir.resolve("noname.json"), "{\"service\": {\"port\": 1}}");
        Run refused = weft("services", "register", invalid.toString());
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("Missing service name") && refused.err().contains("(400)"), refused.err());
    }

    @Test
    void servicesUsageErrorsExitTwo() {
        assertEquals(2, weft("services").code());
        assertEquals(2, weft("services", "register").code(), "FILE is required");
        Run missing = weft("services", "register", dir.resolve("no-such-file.json").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("Cannot read"), missing.err());
        Run noId = weft("services", "deregister");
        assertEquals(2, noId.code());
        assertTrue(noId.err().contains("Missing service ID"), noId.err());
        assertEquals(2, weft("services", "deregister", "a", "-id", "b").code(), "two different IDs");
    }

    @Test
    void servicesRegisterRefusesFilesThatAreNotADefinition() throws Exception {
        Path notJson = Files.writeString(dir.resolve("bad.json"), "service { name = \"web\" }");
        Run r = weft("services", "register", notJson.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("is not valid JSON"), r.err());

        Path array = Files.writeString(dir.resolve("array.json"), "[{\"Name\": \"web\"}]");
        Run a = weft("services", "register", array.toString());
        assertEquals(1, a.code());
        assertTrue(a.err().contains("must hold a JSON object"), a.err());

        Path emptyList = Files.writeString(dir.resolve("empty.json"), "{\"services\": []}");
        assertEquals(1, weft("services", "register", emptyList.toString()).code());
    }

    @Test
    void serviceDefinitionsAreUnwrappedLikeConsulsCli() {
        List<JsonNode> bare = ServicesCommand.definitions(
                "{\"Name\": \"web\", \"Port\": 80}".getBytes(StandardCharsets.UTF_8), "f");
        assertEquals("{\"Name\":\"web\",\"Port\":80}", bare.get(0).toString());

        List<JsonNode> wrapped = ServicesCommand.definitions(
                "{\"service\": {\"name\": \"web\", \"port\": 80}}".getBytes(StandardCharsets.UTF_8), "f");
        assertEquals("{\"name\":\"web\",\"port\":80}", wrapped.get(0).toString());

        List<JsonNode> capitalised = ServicesCommand.definitions(
                "{\"Service\": {\"Name\": \"web\"}}".getBytes(StandardCharsets.UTF_8), "f");
        assertEquals("{\"Name\":\"web\"}", capitalised.get(0).toString());

        List<JsonNode> several = ServicesCommand.definitions(
                "{\"services\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}".getBytes(StandardCharsets.UTF_8), "f");
        assertEquals(2, several.size());
        assertEquals("b", several.get(1).get("name").asText());

        List<JsonNode> nameNamedService = ServicesCommand.definitions(
                "{\"Service\": \"web\", \"Name\": \"x\"}".getBytes(StandardCharsets.UTF_8), "f");
        assertEquals(1, nameNamedService.size(), "two keys: a bare definition");
    }
}
