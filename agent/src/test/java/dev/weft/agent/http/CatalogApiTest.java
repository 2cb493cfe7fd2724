package dev.weft.agent.http;

import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.catalog.CatalogServiceRequest;
import com.ecwid.consul.v1.catalog.CatalogServicesRequest;
import com.ecwid.consul.v1.catalog.model.CatalogRegistration;
import com.ecwid.consul.v1.catalog.model.CatalogService;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.Check;
import com.ecwid.consul.v1.health.model.HealthService;
import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.agent.TestAgent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.weft.agent.TestAgent.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The catalog and health endpoints against a real agent (Raft single server, Netty HTTP) on loopback: Consul's
 * JSON shapes, defaults, filters, errors, blocking queries, and decoding by the real Consul Java client. Every test
 * uses its own node and service names, so tests are independent of each other and of the agent's own node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CatalogApiTest {
    private TestAgent agent;
    private Http http;

    @BeforeAll
    void start() throws Exception {
        agent = TestAgent.start("catalog-api-node");
        http = new Http(agent.baseUrl());
    }

    @AfterAll
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    private void register(String json) throws Exception {
        Http.Resp r = http.put("/v1/catalog/register", json);
        assertEquals(200, r.status(), r.body());
        assertEquals("true", r.body());
    }

    private static JsonNode byNode(JsonNode list, String node) {
        for (JsonNode n : list) {
            if (node.equals(n.path("Node").asText()) || node.equals(n.path("Node").path("Node").asText())) {
                return n;
            }
        }
        throw new AssertionError("no entry for node " + node + " in " + list);
    }

    private static List<String> nodesOf(JsonNode healthEntries) {
        List<String> out = new ArrayList<>();
        healthEntries.forEach(e -> out.add(e.path("Node").path("Node").asText()));
        return out;
    }

    // ---- register and read back --------------------------------------------------------------------------

    @Test
    void registeredNodeServiceAndCheckReadBackInConsulShapes() throws Exception {
        register("""
                {"Datacenter": "dc1", "ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "shape-n1",
                 "Address": "10.1.0.1", "TaggedAddresses": {"lan": "10.1.0.1", "wan": "198.18.0.1"},
                 "NodeMeta": {"rack": "r1"},
                 "Service": {"Service": "shape-web", "Tags": ["v1", "Primary"], "Address": "10.1.0.9",
                             "Port": 8080, "Meta": {"version": "1"}, "Weights": {"Passing": 10, "Warning": 2}},
                 "Check": {"Name": "web alive", "ServiceID": "shape-web", "Status": "passing", "Output": "ok",
                           "Interval": "10s"}}""");

        Http.Resp nodes = http.get("/v1/catalog/nodes");
        assertEquals(200, nodes.status());
        assertEquals("application/json", nodes.header("Content-Type"));
        assertNotNull(nodes.header("X-Consul-KnownLeader"));
        assertNotNull(nodes.header("X-Consul-LastContact"));
        JsonNode node = byNode(nodes.json(), "shape-n1");
        assertEquals(List.of("ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta", "CreateIndex",
                "ModifyIndex"), fieldNames(node));
        assertEquals("40e4a748-2192-161a-0510-9bf59fe950b5", node.get("ID").asText());
        assertEquals("dc1", node.get("Datacenter").asText());
        assertEquals("198.18.0.1", node.get("TaggedAddresses").get("wan").asText());
        assertEquals("r1", node.get("Meta").get("rack").asText());
        assertTrue(nodes.index() >= node.get("ModifyIndex").asLong());

        JsonNode services = http.get("/v1/catalog/services").json();
        assertEquals("[\"Primary\",\"v1\"]", services.get("shape-web").toString());

        Http.Resp svc = http.get("/v1/catalog/service/shape-web");
        JsonNode sn = svc.json().get(0);
        assertEquals(List.of("ID", "Node", "Address", "Datacenter", "TaggedAddresses", "NodeMeta", "ServiceKind",
                "ServiceID", "ServiceName", "ServiceTags", "ServiceAddress", "ServiceWeights", "ServiceMeta",
                "ServicePort", "ServiceSocketPath", "ServiceEnableTagOverride", "ServiceProxy", "ServiceConnect",
                "ServiceLocality", "CreateIndex", "ModifyIndex"), fieldNames(sn));
        assertEquals("shape-web", sn.get("ServiceID").asText(), "the ID defaults to the service name");
        assertEquals("10.1.0.1", sn.get("Address").asText());
        assertEquals("10.1.0.9", sn.get("ServiceAddress").asText());
        assertEquals(8080, sn.get("ServicePort").asInt());
        assertEquals("{\"Passing\":10,\"Warning\":2}", sn.get("ServiceWeights").toString());
        assertEquals("{\"Mode\":\"\",\"MeshGateway\":{},\"Expose\":{}}", sn.get("ServiceProxy").toString());
        assertEquals(sn.get("ModifyIndex").asLong(), svc.index(), "the service's index");

        JsonNode byNode = http.get("/v1/catalog/node/shape-n1").json();
        assertEquals(List.of("Node", "Services"), fieldNames(byNode));
        assertEquals("shape-n1", byNode.get("Node").get("Node").asText());
        JsonNode ns = byNode.get("Services").get("shape-web");
        assertEquals(List.of("ID", "Service", "Tags", "Address", "Meta", "Port", "Weights", "EnableTagOverride",
                "Proxy", "Connect", "PeerName", "CreateIndex", "ModifyIndex"), fieldNames(ns));

        JsonNode entry = http.get("/v1/health/service/shape-web").json().get(0);
        assertEquals(List.of("Node", "Service", "Checks"), fieldNames(entry));
        JsonNode check = entry.get("Checks").get(0);
        assertEquals(List.of("Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
                "ServiceTags", "Type", "Interval", "Timeout", "ExposedPort", "Definition", "CreateIndex",
                "ModifyIndex"), fieldNames(check));
        assertEquals("web alive", check.get("CheckID").asText(), "the check ID defaults to its name");
        assertEquals("passing", check.get("Status").asText());
        assertEquals("shape-web", check.get("ServiceName").asText());
        assertEquals("[\"v1\",\"Primary\"]", check.get("ServiceTags").toString());
        assertEquals("10s", check.get("Interval").asText());
        assertEquals("{\"Interval\":\"10s\"}", check.get("Definition").toString());

        assertEquals("web alive", http.get("/v1/health/checks/shape-web").json().get(0).get("CheckID").asText());
        assertEquals("web alive", http.get("/v1/health/node/shape-n1").json().get(0).get("CheckID").asText());
        assertEquals("[\"dc1\"]", http.get("/v1/catalog/datacenters").body());
    }

    @Test
    void checksDefaultToCriticalAndNodeChecksHaveEmptyServiceFields() throws Exception {
        register("""
                {"Node": "defaults-n1", "Address": "10.2.0.1",
                 "Service": {"ID": "defaults-api-1", "Service": "defaults-api"},
                 "Checks": [{"CheckID": "node-up", "Name": "Node up"},
                            {"Name": "api health", "ServiceID": "defaults-api-1", "Status": "warning"}]}""");
        JsonNode checks = http.get("/v1/health/node/defaults-n1").json();
        assertEquals(2, checks.size());
        JsonNode api = checks.get(0);
        assertEquals("api health", api.get("CheckID").asText());
        assertEquals("warning", api.get("Status").asText());
        JsonNode nodeCheck = checks.get(1);
        assertEquals("node-up", nodeCheck.get("CheckID").asText());
        assertEquals("critical", nodeCheck.get("Status").asText(), "Consul's default status");
        assertEquals("", nodeCheck.get("ServiceID").asText());
        assertEquals("[]", nodeCheck.get("ServiceTags").toString());
        assertEquals("{}", nodeCheck.get("Definition").toString());

        JsonNode svc = http.get("/v1/health/service/defaults-api").json().get(0).get("Service");
        assertFalse(svc.has("Port"), "Port 0 is omitted as Consul's omitempty does");
        assertEquals("[]", svc.get("Tags").toString());
        assertEquals("{}", svc.get("Meta").toString());
        assertEquals("{\"Passing\":1,\"Warning\":1}", svc.get("Weights").toString());

        JsonNode critical = http.get("/v1/health/state/critical").json();
        assertEquals("node-up", byNode(critical, "defaults-n1").get("CheckID").asText());
        JsonNode any = http.get("/v1/health/state/any").json();
        long ours = 0;
        for (JsonNode c : any) {
            ours += c.get("Node").asText().equals("defaults-n1") ? 1 : 0;
        }
        assertEquals(2, ours);
    }

    @Test
    void emptyResultsAreEmptyListsAndAnUnknownNodeIsNull() throws Exception {
        for (String path : List.of("/v1/catalog/service/none-such", "/v1/health/service/none-such",
                "/v1/health/checks/none-such", "/v1/health/node/none-such")) {
            Http.Resp r = http.get(path);
            assertEquals(200, r.status(), path);
            assertEquals("[]", r.body(), path);
            assertTrue(r.index() >= 1, path + " has an index");
        }
        Http.Resp node = http.get("/v1/catalog/node/none-such");
        assertEquals(200, node.status());
        assertEquals("null", node.body(), "Consul answers null for an unknown node");
    }

    // ---- filters -----------------------------------------------------------------------------------------

    @Test
    void tagPassingAndNodeMetaFilters() throws Exception {
        register("""
                {"Node": "filt-a", "Address": "10.3.0.1", "NodeMeta": {"zone": "z1"},
                 "Service": {"Service": "filt", "Tags": ["Blue", "v1"], "Port": 1},
                 "Check": {"CheckID": "filt-a-ok", "ServiceID": "filt", "Status": "passing"}}""");
        register("""
                {"Node": "filt-b", "Address": "10.3.0.2", "NodeMeta": {"zone": "z2"},
                 "Service": {"Service": "filt", "Tags": ["blue"], "Port": 2},
                 "Check": {"CheckID": "filt-b-warn", "ServiceID": "filt", "Status": "warning"}}""");
        register("""
                {"Node": "filt-c", "Address": "10.3.0.3", "NodeMeta": {"zone": "z1"},
                 "Service": {"Service": "filt", "Tags": ["green", "v1"], "Port": 3},
                 "Checks": [{"CheckID": "filt-c-node", "Status": "critical"}]}""");

        assertEquals(List.of("filt-a", "filt-b", "filt-c"), nodesOf(http.get("/v1/health/service/filt").json()));
        assertEquals(List.of("filt-a"), nodesOf(http.get("/v1/health/service/filt?passing").json()),
                "warning and a critical node check are not passing");
        assertEquals(List.of("filt-a"), nodesOf(http.get("/v1/health/service/filt?passing=true").json()));
        assertEquals(3, http.get("/v1/health/service/filt?passing=false").json().size());
        assertEquals(List.of("filt-a", "filt-b"), nodesOf(http.get("/v1/health/service/filt?tag=BLUE").json()),
                "tags match case-insensitively");
        assertEquals(List.of("filt-a"), nodesOf(http.get("/v1/health/service/filt?tag=blue&tag=v1").json()),
                "every tag must match");
        assertEquals(List.of("filt-a", "filt-c"),
                nodesOf(http.get("/v1/health/service/filt?node-meta=zone:z1").json()));
        assertEquals(List.of("filt-c"),
                nodesOf(http.get("/v1/health/service/filt?node-meta=zone:z1&tag=green").json()));
        assertEquals(List.of("filt-c"), nodesOf(http.get("/v1/health/service/FILT?tag=green").json()),
                "service names match case-insensitively");

        JsonNode catalog = http.get("/v1/catalog/service/filt?tag=v1&node-meta=zone:z1").json();
        assertEquals(2, catalog.size());
        assertEquals("filt-a", catalog.get(0).get("Node").asText());
        assertEquals("filt-c", catalog.get(1).get("Node").asText());

        JsonNode checks = http.get("/v1/health/checks/filt?node-meta=zone:z2").json();
        assertEquals(1, checks.size());
        assertEquals("filt-b-warn", checks.get(0).get("CheckID").asText());
        assertEquals(2, http.get("/v1/health/checks/filt").json().size(), "service checks only, not node checks");

        JsonNode z2 = http.get("/v1/catalog/nodes?node-meta=zone:z2").json();
        assertEquals(List.of("filt-b"), List.of(z2.get(0).get("Node").asText()));
        assertEquals(1, z2.size());
        JsonNode z1services = http.get("/v1/catalog/services?node-meta=zone:z1").json();
        assertEquals("[\"Blue\",\"green\",\"v1\"]", z1services.get("filt").toString());
        assertEquals("filt-c", byNode(http.get("/v1/health/state/critical?node-meta=zone:z1").json(), "filt-c")
                .get("Node").asText());

        assertEquals(3, http.get("/v1/health/service/filt?near=_agent").json().size(), "?near is ignored");
        assertEquals(3, http.get("/v1/health/service/filt?dc=dc1&stale").json().size());
    }

    // ---- errors ------------------------------------------------------------------------------------------

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("PUT", "/v1/catalog/register", "{bad", 400, "Request decode failed: "),
                Arguments.of("PUT", "/v1/catalog/register", "", 400, "Request decode failed: EOF"),
                Arguments.of("PUT", "/v1/catalog/register", "[1]", 400, "Request decode failed: "),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Address\": \"10.0.0.1\"}", 400, "Must provide node"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\"}", 400,
                        "Must provide address if SkipNodeUpdate is not set"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", \"ID\": \"nope\"}",
                        400, "Bad node ID: "),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": 5, \"Address\": \"a\"}", 400,
                        "Request decode failed: json: cannot unmarshal number into Go struct field "
                                + "RegisterRequest.Node of type string"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Service\": {\"ID\": \"x\"}}", 400,
                        "Must provide service name (Service.Service) when service ID is provided"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Service\": {\"Service\": \"x\", \"Address\": \"0.0.0.0\"}}", 400,
                        "Invalid service address"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Service\": {\"Service\": \"x\", \"Port\": 70000}}", 400, "Invalid service port 70000"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Check\": {\"CheckID\": \"c\", \"ServiceID\": \"ghost\"}}", 400,
                        "Unknown service ID 'ghost' for check ID 'c'"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Check\": {\"CheckID\": \"c\", \"Node\": \"other\"}}", 400,
                        "Node 'other' for check 'c' doesn't match register request node 'e1'"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Check\": {\"CheckID\": \"c\", \"Status\": \"sleepy\"}}", 400, "Invalid check status"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Check\": {\"Status\": \"passing\"}}", 400, "Missing check ID"),
                Arguments.of("PUT", "/v1/catalog/register", "{\"Node\": \"e1\", \"Address\": \"a\", "
                        + "\"Datacenter\": \"dc9\"}", 500, "No path to datacenter"),
                Arguments.of("PUT", "/v1/catalog/deregister", "{}", 400, "Must provide node"),
                Arguments.of("GET", "/v1/catalog/register", null, 405, "not allowed"),
                Arguments.of("GET", "/v1/catalog/nodes?dc=dc2", null, 500, "No path to datacenter"),
                Arguments.of("GET", "/v1/health/service/web?dc=elsewhere", null, 500, "No path to datacenter"),
                Arguments.of("GET", "/v1/health/service/web?filter=Service.Port==80", null, 400,
                        "?filter is not supported"),
                Arguments.of("GET", "/v1/catalog/nodes?filter=Node==x", null, 400, "?filter is not supported"),
                Arguments.of("GET", "/v1/health/service/web?passing=maybe", null, 400, "Invalid value for ?passing"),
                Arguments.of("GET", "/v1/health/state/sleepy", null, 400, "Invalid check state"),
                Arguments.of("GET", "/v1/health/state/", null, 400, "Missing check state"),
                Arguments.of("GET", "/v1/health/service/", null, 400, "Missing service name"),
                Arguments.of("GET", "/v1/catalog/node/", null, 400, "Missing node name"),
                Arguments.of("GET", "/v1/catalog/nodes?stale&consistent", null, 400, "Cannot specify ?stale"));
    }

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @MethodSource("errors")
    void errorsAnswerConsulsStatusAndMessage(String method, String path, String body, int status, String message)
            throws Exception {
        Http.Resp r = http.send(method, path, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
        assertEquals(status, r.status(), r.body());
        assertTrue(r.body().contains(message), "expected '" + message + "' in: " + r.body());
        assertEquals("null", http.get("/v1/catalog/node/e1").body(), "nothing was registered");
    }

    // ---- writes, deregistration and indexes --------------------------------------------------------------

    @Test
    void identicalReRegistrationKeepsTheIndex() throws Exception {
        String body = """
                {"Node": "idem-n1", "Address": "10.4.0.1",
                 "Service": {"Service": "idem", "Tags": ["a"]}, "Check": {"CheckID": "idem-c", "ServiceID": "idem"}}""";
        register(body);
        long index = http.get("/v1/health/service/idem").index();
        register(body);
        assertEquals(index, http.get("/v1/health/service/idem").index(), "no change, no new index");
        http.put("/v1/kv/idem/unrelated", "x");
        assertEquals(index, http.get("/v1/catalog/service/idem").index(), "KV writes do not move it");
        Http.Resp timedOut = http.get("/v1/health/service/idem?index=" + index + "&wait=100ms");
        assertEquals(index, timedOut.index(), "the blocking query timed out");
    }

    @Test
    void skipNodeUpdateRegistersAServiceOnAnExistingNode() throws Exception {
        register("{\"Node\": \"skip-n1\", \"Address\": \"10.5.0.1\", \"NodeMeta\": {\"k\": \"v\"}}");
        register("{\"Node\": \"skip-n1\", \"SkipNodeUpdate\": true, \"Service\": {\"Service\": \"skip-svc\"}}");
        JsonNode n = http.get("/v1/catalog/node/skip-n1").json();
        assertEquals("10.5.0.1", n.get("Node").get("Address").asText());
        assertEquals("v", n.get("Node").get("Meta").get("k").asText());
        assertTrue(n.get("Services").has("skip-svc"));
    }

    @Test
    void deregisterServiceCheckAndNode() throws Exception {
        register("""
                {"Node": "dereg-n1", "Address": "10.6.0.1",
                 "Service": {"ID": "dereg-1", "Service": "dereg"},
                 "Checks": [{"CheckID": "dereg-svc-check", "ServiceID": "dereg-1", "Status": "passing"},
                            {"CheckID": "dereg-node-check", "Status": "passing"}]}""");
        register("{\"Node\": \"dereg-n1\", \"Address\": \"10.6.0.1\", \"Service\": {\"Service\": \"dereg-other\"}}");

        assertEquals("true", http.put("/v1/catalog/deregister", "{\"Node\": \"dereg-n1\", \"CheckID\": "
                + "\"dereg-node-check\"}").body());
        assertEquals(List.of("dereg-svc-check"), checkIds(http.get("/v1/health/node/dereg-n1").json()));

        assertEquals("true", http.put("/v1/catalog/deregister", "{\"Node\": \"dereg-n1\", \"ServiceID\": "
                + "\"dereg-1\"}").body());
        assertEquals("[]", http.get("/v1/health/service/dereg").body());
        assertEquals("[]", http.get("/v1/health/node/dereg-n1").body(), "the service's checks went with it");
        assertFalse(http.get("/v1/catalog/services").json().has("dereg"));

        assertEquals("true", http.put("/v1/catalog/deregister", "{\"Node\": \"dereg-n1\"}").body());
        assertEquals("null", http.get("/v1/catalog/node/dereg-n1").body());
        assertEquals("[]", http.get("/v1/catalog/service/dereg-other").body());
        assertEquals("true", http.put("/v1/catalog/deregister", "{\"Node\": \"dereg-n1\"}").body(),
                "deregistering what is gone is not an error");
    }

    private static List<String> checkIds(JsonNode checks) {
        List<String> out = new ArrayList<>();
        checks.forEach(c -> out.add(c.get("CheckID").asText()));
        return out;
    }

    // ---- blocking queries --------------------------------------------------------------------------------

    private CompletableFuture<Http.Resp> waitingQuery(String path, long index) {
        double before = agent.gauge("weft.http.blocking.queries");
        CompletableFuture<Http.Resp> pending = http.sendAsync("GET", path + (path.contains("?") ? "&" : "?")
                + "index=" + index + "&wait=30s", null);
        awaitTrue("the query is waiting", Duration.ofSeconds(10),
                () -> agent.gauge("weft.http.blocking.queries") > before);
        assertFalse(pending.isDone());
        return pending;
    }

    @Test
    void healthQueryWakesWhenACheckChanges() throws Exception {
        String reg = """
                {"Node": "blk-n1", "Address": "10.7.0.1", "Service": {"Service": "blk"},
                 "Check": {"CheckID": "blk-check", "ServiceID": "blk", "Status": "%s"}}""";
        register(reg.formatted("passing"));
        Http.Resp first = http.get("/v1/health/service/blk?passing");
        assertEquals(1, first.json().size());

        CompletableFuture<Http.Resp> pending = waitingQuery("/v1/health/service/blk?passing", first.index());
        register(reg.formatted("critical"));
        Http.Resp woke = pending.get(10, TimeUnit.SECONDS);
        assertTrue(woke.index() > first.index());
        assertEquals("[]", woke.body(), "no longer passing");
    }

    @Test
    void healthQueryWakesWhenTheNodeCheckChanges() throws Exception {
        register("""
                {"Node": "blkn-n1", "Address": "10.8.0.1", "Service": {"Service": "blkn"},
                 "Check": {"CheckID": "blkn-node", "Status": "passing"}}""");
        Http.Resp first = http.get("/v1/health/service/blkn");
        CompletableFuture<Http.Resp> pending = waitingQuery("/v1/health/service/blkn", first.index());
        register("{\"Node\": \"blkn-n1\", \"Address\": \"10.8.0.1\", "
                + "\"Check\": {\"CheckID\": \"blkn-node\", \"Status\": \"critical\"}}");
        Http.Resp woke = pending.get(10, TimeUnit.SECONDS);
        assertTrue(woke.index() > first.index());
        assertEquals("critical", woke.json().get(0).get("Checks").get(0).get("Status").asText());
    }

    @Test
    void catalogQueriesWakeOnTheirTables() throws Exception {
        long servicesIndex = http.get("/v1/catalog/services").index();
        CompletableFuture<Http.Resp> services = waitingQuery("/v1/catalog/services", servicesIndex);
        long nodesIndex = http.get("/v1/catalog/nodes").index();
        CompletableFuture<Http.Resp> nodes = waitingQuery("/v1/catalog/nodes", nodesIndex);
        long nodeIndex = http.get("/v1/catalog/node/wake-n1").index();
        CompletableFuture<Http.Resp> node = waitingQuery("/v1/catalog/node/wake-n1", nodeIndex);
        long stateIndex = http.get("/v1/health/state/warning").index();
        CompletableFuture<Http.Resp> state = waitingQuery("/v1/health/state/warning", stateIndex);

        register("""
                {"Node": "wake-n1", "Address": "10.9.0.1", "Service": {"Service": "wake-svc"},
                 "Check": {"CheckID": "wake-check", "Status": "warning"}}""");
        assertTrue(services.get(10, TimeUnit.SECONDS).json().has("wake-svc"));
        assertEquals("wake-n1", byNode(nodes.get(10, TimeUnit.SECONDS).json(), "wake-n1").get("Node").asText());
        assertTrue(node.get(10, TimeUnit.SECONDS).json().get("Services").has("wake-svc"));
        assertEquals("wake-check", byNode(state.get(10, TimeUnit.SECONDS).json(), "wake-n1").get("CheckID").asText());
    }

    // ---- the real Consul Java client ---------------------------------------------------------------------

    @Test
    void consulJavaClientDecodesCatalogAndHealth() {
        String[] hostPort = agent.httpAddr().split(":");
        ConsulClient consul = new ConsulClient(hostPort[0], Integer.parseInt(hostPort[1]));

        CatalogRegistration reg = new CatalogRegistration();
        reg.setDatacenter("dc1");
        reg.setNode("ecwid-n1");
        reg.setAddress("10.10.0.1");
        reg.setNodeMeta(Map.of("zone", "z1"));
        CatalogRegistration.Service svc = new CatalogRegistration.Service();
        svc.setId("ecwid-web-1");
        svc.setService("ecwid-web");
        svc.setTags(List.of("v1"));
        svc.setPort(8080);
        svc.setMeta(Map.of("team", "a"));
        reg.setService(svc);
        CatalogRegistration.Check check = new CatalogRegistration.Check();
        check.setCheckId("ecwid-check");
        check.setName("web check");
        check.setServiceId("ecwid-web-1");
        check.setStatus(CatalogRegistration.CheckStatus.PASSING);
        reg.setCheck(check);
        consul.catalogRegister(reg);

        CatalogRegistration second = new CatalogRegistration();
        second.setNode("ecwid-n2");
        second.setAddress("10.10.0.2");
        CatalogRegistration.Service svc2 = new CatalogRegistration.Service();
        svc2.setId("ecwid-web-2");
        svc2.setService("ecwid-web");
        svc2.setPort(8081);
        second.setService(svc2);
        CatalogRegistration.Check failing = new CatalogRegistration.Check();
        failing.setCheckId("ecwid-check-2");
        failing.setName("web check");
        failing.setServiceId("ecwid-web-2");
        failing.setStatus(CatalogRegistration.CheckStatus.CRITICAL);
        second.setCheck(failing);
        consul.catalogRegister(second);

        Response<Map<String, List<String>>> services = consul.getCatalogServices(
                CatalogServicesRequest.newBuilder().setQueryParams(QueryParams.DEFAULT).build());
        assertEquals(List.of("v1"), services.getValue().get("ecwid-web"));
        assertNotNull(services.getConsulIndex());
        assertTrue(services.isConsulKnownLeader());

        Response<List<CatalogService>> instances = consul.getCatalogService("ecwid-web",
                CatalogServiceRequest.newBuilder().setQueryParams(QueryParams.DEFAULT).build());
        assertEquals(2, instances.getValue().size());
        CatalogService first = instances.getValue().get(0);
        assertEquals("ecwid-n1", first.getNode());
        assertEquals("10.10.0.1", first.getAddress());
        assertEquals("dc1", first.getDatacenter());
        assertEquals("ecwid-web-1", first.getServiceId());
        assertEquals(8080, first.getServicePort());
        assertEquals(List.of("v1"), first.getServiceTags());
        assertEquals(Map.of("team", "a"), first.getServiceMeta());
        assertEquals(Map.of("zone", "z1"), first.getNodeMeta());
        assertEquals(Boolean.FALSE, first.getServiceEnableTagOverride());
        assertTrue(first.getModifyIndex() > 0);

        Response<List<CatalogService>> tagged = consul.getCatalogService("ecwid-web",
                CatalogServiceRequest.newBuilder().setTag("v1").setQueryParams(QueryParams.DEFAULT).build());
        assertEquals(1, tagged.getValue().size());

        Response<List<HealthService>> healthy = consul.getHealthServices("ecwid-web",
                HealthServicesRequest.newBuilder().setPassing(true).setQueryParams(QueryParams.DEFAULT).build());
        assertEquals(1, healthy.getValue().size(), "the critical instance is filtered out");
        HealthService h = healthy.getValue().get(0);
        assertEquals("ecwid-n1", h.getNode().getNode());
        assertEquals("10.10.0.1", h.getNode().getAddress());
        assertEquals(Map.of("zone", "z1"), h.getNode().getMeta());
        assertEquals("ecwid-web-1", h.getService().getId());
        assertEquals("ecwid-web", h.getService().getService());
        assertEquals(8080, h.getService().getPort());
        assertEquals(List.of("v1"), h.getService().getTags());
        Check c = h.getChecks().get(0);
        assertEquals("ecwid-check", c.getCheckId());
        assertEquals(Check.CheckStatus.PASSING, c.getStatus());
        assertEquals("ecwid-web", c.getServiceName());
        assertEquals(List.of("v1"), c.getServiceTags());

        Response<List<HealthService>> all = consul.getHealthServices("ecwid-web",
                HealthServicesRequest.newBuilder().setQueryParams(QueryParams.DEFAULT).build());
        assertEquals(2, all.getValue().size());
        assertEquals(Check.CheckStatus.CRITICAL, all.getValue().get(1).getChecks().get(0).getStatus());

        Response<List<HealthService>> byMeta = consul.getHealthServices("ecwid-web",
                HealthServicesRequest.newBuilder().setNodeMeta(Map.of("zone", "z1"))
                        .setQueryParams(QueryParams.DEFAULT).build());
        assertEquals(1, byMeta.getValue().size());

        long index = all.getConsulIndex();
        Response<List<HealthService>> blocked = consul.getHealthServices("ecwid-web",
                HealthServicesRequest.newBuilder().setQueryParams(new QueryParams(1, index)).build());
        assertEquals(index, blocked.getConsulIndex(), "a blocking query through the client times out unchanged");

        List<Check> nodeChecks = consul.getHealthChecksForNode("ecwid-n2", QueryParams.DEFAULT).getValue();
        assertEquals(Check.CheckStatus.CRITICAL, nodeChecks.get(0).getStatus());
        assertEquals("ecwid-n1", consul.getCatalogNode("ecwid-n1", QueryParams.DEFAULT).getValue().getNode()
                .getNode());
    }
}
