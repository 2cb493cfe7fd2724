package dev.weft.kvstore.state;

import dev.weft.kvstore.codec.CommandCodec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static dev.weft.kvstore.state.CatalogView.TOPIC_CHECKS;
import static dev.weft.kvstore.state.CatalogView.TOPIC_NODES;
import static dev.weft.kvstore.state.CatalogView.TOPIC_SERVICES;
import static dev.weft.kvstore.state.CatalogView.serviceTopic;
import static dev.weft.kvstore.state.HealthStatus.CRITICAL;
import static dev.weft.kvstore.state.HealthStatus.PASSING;
import static dev.weft.kvstore.state.HealthStatus.WARNING;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalog tables of {@link KvState}: pure, no Raft, no I/O. */
class CatalogStateTest {

    private KvState state;
    private CatalogView catalog;
    private long index;

    @BeforeEach
    void setUp() {
        state = new KvState();
        catalog = state.catalog();
        index = 0;
    }

    private Applied apply(Command c) {
        return state.apply(++index, c);
    }

    // ---- builders ----------------------------------------------------------------------------------------

    private static CatalogNode node(String name) {
        return node(name, "10.0.0.1", Map.of());
    }

    private static CatalogNode node(String name, String address, Map<String, String> meta) {
        return new CatalogNode(name, "", address, Map.of("lan", address), meta, 0, 0);
    }

    private static CatalogService svc(String node, String id, String name, String... tags) {
        return new CatalogService(node, id, name, List.of(tags), "", 8080, Map.of(), 1, 1, false, 0, 0);
    }

    private static CatalogCheck check(String node, String id, String serviceId, HealthStatus status) {
        return new CatalogCheck(node, id, id + " name", status, "", "", serviceId, null, null, "ttl", "", "", 0, 0,
                0);
    }

    private static Command.CatalogRegister register(CatalogNode n, CatalogService s, CatalogCheck... checks) {
        return new Command.CatalogRegister(n, s, List.of(checks), false);
    }

    /** node1 with service web (id web-1, tags v1/primary), a node check and a service check. */
    private Applied registerWeb(HealthStatus nodeCheck, HealthStatus serviceCheck) {
        return apply(register(node("node1"), svc("node1", "web-1", "web", "v1", "primary"),
                check("node1", "serfHealth", "", nodeCheck), check("node1", "web-check", "web-1", serviceCheck)));
    }

    private Map<String, SortedSet<String>> servicesOf(String... nameAndTags) {
        Map<String, SortedSet<String>> m = new HashMap<>();
        for (String s : nameAndTags) {
            String[] parts = s.split(":");
            m.put(parts[0], new TreeSet<>(parts.length > 1 ? Arrays.asList(parts[1].split(",")) : List.of()));
        }
        return m;
    }

    // ---- register ----------------------------------------------------------------------------------------

    @Test
    void registerStoresNodeServiceAndChecksWithIndexes() {
        Applied a = registerWeb(PASSING, WARNING);
        assertEquals(Result.TRUE, a.result());
        assertEquals(Set.of(TOPIC_NODES, TOPIC_SERVICES, TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics());

        CatalogNode n = catalog.node("node1");
        assertEquals("10.0.0.1", n.address());
        assertEquals(1, n.createIndex());
        assertEquals(1, n.modifyIndex());
        CatalogService s = catalog.service("node1", "web-1");
        assertEquals(List.of("v1", "primary"), s.tags());
        assertEquals(1, s.createIndex());
        CatalogCheck sc = catalog.check("node1", "web-check");
        assertEquals("web", sc.serviceName(), "service checks carry the service's name");
        assertEquals(List.of("v1", "primary"), sc.serviceTags());
        assertEquals(WARNING, sc.status());
        assertEquals(List.of("serfHealth", "web-check"),
                catalog.checksOfNode("node1").stream().map(CatalogCheck::checkId).toList());
        assertEquals(List.of("web-check"), catalog.checksOfService("web").stream().map(CatalogCheck::checkId).toList());
        assertEquals(servicesOf("web:primary,v1"), catalog.services());
        assertEquals(1, catalog.nodesIndex());
        assertEquals(1, catalog.servicesIndex());
        assertEquals(1, catalog.checksIndex());
        assertEquals(1, catalog.serviceIndex("web"));
        assertEquals(1, catalog.nodeCount());
        assertEquals(1, catalog.serviceCount());
        assertEquals(2, catalog.checkCount());
    }

    @Test
    void identicalReRegistrationChangesNothing() {
        registerWeb(PASSING, PASSING);
        Applied again = registerWeb(PASSING, PASSING);
        assertEquals(Result.TRUE, again.result());
        assertEquals(Set.of(), again.catalogTopics(), "nothing to wake");
        assertEquals(1, catalog.nodesIndex());
        assertEquals(1, catalog.servicesIndex());
        assertEquals(1, catalog.checksIndex());
        assertEquals(1, catalog.serviceIndex("web"));
        assertEquals(1, catalog.node("node1").modifyIndex());
        assertEquals(1, catalog.service("node1", "web-1").modifyIndex());
        assertEquals(1, catalog.check("node1", "web-check").modifyIndex());
    }

    @Test
    void changedServiceKeepsCreateIndexAndBumpsOnlyWhatChanged() {
        registerWeb(PASSING, PASSING);
        Applied a = apply(register(node("node1"), svc("node1", "web-1", "web", "v2")));
        assertEquals(Set.of(TOPIC_SERVICES, TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics(),
                "the service check's ServiceTags follow the service");
        CatalogService s = catalog.service("node1", "web-1");
        assertEquals(1, s.createIndex());
        assertEquals(2, s.modifyIndex());
        assertEquals(List.of("v2"), catalog.check("node1", "web-check").serviceTags());
        assertEquals(1, catalog.nodesIndex());
        assertEquals(2, catalog.servicesIndex());
    }

    @Test
    void renamedServiceMovesBetweenNames() {
        registerWeb(PASSING, PASSING);
        Applied a = apply(register(node("node1"), svc("node1", "web-1", "api", "v1")));
        assertTrue(a.catalogTopics().containsAll(Set.of(serviceTopic("web"), serviceTopic("api"))),
                a.catalogTopics().toString());
        assertEquals(List.of(), catalog.serviceInstances("web"));
        assertEquals(List.of("web-1"), catalog.serviceInstances("api").stream().map(CatalogService::id).toList());
        assertEquals(servicesOf("api:v1"), catalog.services());
        assertEquals(2, catalog.serviceIndex("web"), "the old name's watchers see it go");
        assertEquals(2, catalog.serviceIndex("api"));
        assertEquals("api", catalog.check("node1", "web-check").serviceName());
        assertEquals(List.of("web-check"), catalog.checksOfService("api").stream().map(CatalogCheck::checkId).toList());
        assertEquals(List.of(), catalog.checksOfService("web"));
    }

    @Test
    void serviceNamesMatchCaseInsensitivelyAndKeepTheirSpelling() {
        apply(register(node("node1"), svc("node1", "w1", "Web", "Primary")));
        apply(register(node("node2"), svc("node2", "w2", "web")));
        for (String spelling : List.of("web", "WEB", "Web", "wEb")) {
            assertEquals(2, catalog.serviceInstances(spelling).size(), spelling);
            assertEquals(2, catalog.serviceIndex(spelling), spelling);
        }
        assertEquals(Set.of("Web"), catalog.services().keySet(), "first instance's spelling");
        assertTrue(catalog.service("node1", "w1").hasTag("primary"));
        assertEquals(serviceTopic("web"), serviceTopic("WEB"));
    }

    @Test
    void skipNodeUpdateLeavesAnExistingNodeAlone() {
        apply(register(node("node1", "10.0.0.1", Map.of("rack", "a")), null));
        Applied a = apply(new Command.CatalogRegister(node("node1", "10.9.9.9", Map.of()),
                svc("node1", "db", "db"), List.of(), true));
        assertEquals(Result.TRUE, a.result());
        assertEquals("10.0.0.1", catalog.node("node1").address());
        assertEquals(Map.of("rack", "a"), catalog.node("node1").meta());
        assertEquals(1, catalog.nodesIndex());
        assertNotNull(catalog.service("node1", "db"));
    }

    // ---- deregister --------------------------------------------------------------------------------------

    @Test
    void deregisterServiceRemovesItsChecksOnly() {
        registerWeb(PASSING, PASSING);
        Applied a = apply(new Command.CatalogDeregister("node1", "web-1", null));
        assertEquals(Result.TRUE, a.result());
        assertEquals(Set.of(TOPIC_SERVICES, TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics());
        assertNull(catalog.service("node1", "web-1"));
        assertNull(catalog.check("node1", "web-check"));
        assertNotNull(catalog.check("node1", "serfHealth"), "node checks stay");
        assertNotNull(catalog.node("node1"));
        assertEquals(Map.of(), catalog.services());
        assertEquals(2, catalog.serviceIndex("web"));
        assertEquals(1, catalog.nodesIndex());
    }

    @Test
    void deregisterCheckRemovesOneCheck() {
        registerWeb(PASSING, CRITICAL);
        apply(new Command.CatalogDeregister("node1", null, "web-check"));
        assertNull(catalog.check("node1", "web-check"));
        assertEquals(PASSING, catalog.health(catalog.service("node1", "web-1")));
        assertEquals(2, catalog.serviceIndex("web"));
    }

    @Test
    void deregisterNodeRemovesEverything() {
        registerWeb(PASSING, PASSING);
        apply(register(node("node2"), svc("node2", "web-2", "web")));
        Applied a = apply(new Command.CatalogDeregister("node1", null, null));
        assertEquals(Result.TRUE, a.result());
        assertEquals(Set.of(TOPIC_NODES, TOPIC_SERVICES, TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics());
        assertNull(catalog.node("node1"));
        assertEquals(List.of(), catalog.servicesOfNode("node1"));
        assertEquals(List.of(), catalog.checksOfNode("node1"));
        assertEquals(List.of("web-2"), catalog.serviceInstances("web").stream().map(CatalogService::id).toList());
        assertEquals(3, catalog.nodesIndex());
        assertEquals(3, catalog.serviceIndex("web"));
        assertEquals(1, catalog.nodeCount());
        assertEquals(0, catalog.checkCount());
    }

    @Test
    void nodesAreFoundIgnoringCaseExactSpellingFirst() throws IOException {
        apply(register(node("Web-Host"), null));
        apply(register(node("web-host"), null));
        assertEquals("Web-Host", catalog.nodeIgnoringCase("Web-Host").node());
        assertEquals("web-host", catalog.nodeIgnoringCase("web-host").node());
        assertEquals("Web-Host", catalog.nodeIgnoringCase("WEB-HOST").node(), "first of that name wins");
        assertNull(catalog.node("WEB-HOST"), "the exact lookup stays exact");
        apply(new Command.CatalogDeregister("Web-Host", null, null));
        assertEquals("web-host", catalog.nodeIgnoringCase("WEB-HOST").node(), "the other spelling takes over");
        KvState back = StateCodec.read(new java.io.ByteArrayInputStream(snapshot(state)));
        assertEquals("web-host", back.catalog().nodeIgnoringCase("WEB-HOST").node(), "rebuilt from a snapshot");
        apply(new Command.CatalogDeregister("web-host", null, null));
        assertNull(catalog.nodeIgnoringCase("WEB-HOST"));
    }

    @Test
    void deregisterOfUnknownThingsIsNotAnError() {
        assertEquals(Result.TRUE, apply(new Command.CatalogDeregister("ghost", null, null)).result());
        registerWeb(PASSING, PASSING);
        assertEquals(Result.TRUE, apply(new Command.CatalogDeregister("node1", "nope", null)).result());
        Applied a = apply(new Command.CatalogDeregister("node1", null, "nope"));
        assertEquals(Set.of(), a.catalogTopics());
        assertInstanceOf(Result.Invalid.class, apply(new Command.CatalogDeregister("", null, null)).result());
    }

    // ---- refusals and limits -----------------------------------------------------------------------------

    @Test
    void checkForAnUnknownServiceIsRefusedAndChangesNothing() {
        Applied a = apply(register(node("node1"), null, check("node1", "c1", "missing", PASSING)));
        Result.Invalid invalid = assertInstanceOf(Result.Invalid.class, a.result());
        assertEquals("Unknown service ID 'missing' for check ID 'c1'", invalid.message());
        assertNull(catalog.node("node1"), "refused as a whole");
        assertEquals(Set.of(), a.catalogTopics());
        assertEquals(0, catalog.catalogIndex());
    }

    @Test
    void checkForAServiceRegisteredEarlierIsAccepted() {
        registerWeb(PASSING, PASSING);
        Applied a = apply(register(node("node1"), null, check("node1", "web-extra", "web-1", WARNING)));
        assertEquals(Result.TRUE, a.result());
        assertEquals("web", catalog.check("node1", "web-extra").serviceName());
        assertEquals(WARNING, catalog.health(catalog.service("node1", "web-1")));
    }

    static Stream<Arguments> invalidRegistrations() {
        List<String> manyTags = Collections.nCopies(Catalogs.MAX_TAGS + 1, "t");
        Map<String, String> manyMeta = new HashMap<>();
        for (int i = 0; i <= Catalogs.MAX_META_PAIRS; i++) {
            manyMeta.put("k" + i, "v");
        }
        String longName = "n".repeat(Catalogs.MAX_NAME_BYTES + 1);
        CatalogNode ok = node("node1");
        List<CatalogCheck> tooManyChecks = new ArrayList<>();
        for (int i = 0; i <= Catalogs.MAX_CHECKS_PER_REGISTER; i++) {
            tooManyChecks.add(check("node1", "c" + i, "", PASSING));
        }
        return Stream.of(
                Arguments.of("missing node name", register(node(""), null), "Missing node name"),
                Arguments.of("missing address", register(node("node1", "", Map.of()), null), "Must provide address"),
                Arguments.of("node name too long", register(node(longName), null), "node name too long"),
                Arguments.of("node meta pairs", register(node("node1", "10.0.0.1", manyMeta), null),
                        "Node metadata cannot contain more than"),
                Arguments.of("meta key too long", register(node("node1", "10.0.0.1",
                        Map.of("k".repeat(Catalogs.MAX_META_KEY_BYTES + 1), "v")), null), "Key is too long"),
                Arguments.of("meta value too long", register(node("node1", "10.0.0.1",
                        Map.of("k", "v".repeat(Catalogs.MAX_META_VALUE_BYTES + 1))), null), "Value is too long"),
                Arguments.of("blank meta key", register(node("node1", "10.0.0.1", Map.of("", "v")), null),
                        "Key cannot be blank"),
                Arguments.of("empty service name", register(ok, svc("node1", "id", "")), "Missing service name"),
                Arguments.of("service name too long", register(ok, svc("node1", "id", longName)),
                        "service name too long"),
                Arguments.of("too many tags", register(ok, new CatalogService("node1", "w", "w", manyTags, "", 1,
                        Map.of(), 1, 1, false, 0, 0)), "Too many tags"),
                Arguments.of("tag too long", register(ok, svc("node1", "w", "w", "t".repeat(Catalogs.MAX_TAG_BYTES + 1))),
                        "Tag too long"),
                Arguments.of("port out of range", register(ok, new CatalogService("node1", "w", "w", List.of(), "",
                        70000, Map.of(), 1, 1, false, 0, 0)), "Invalid service port 70000"),
                Arguments.of("passing weight 0", register(ok, new CatalogService("node1", "w", "w", List.of(), "",
                        80, Map.of(), 0, 1, false, 0, 0)), "Passing must be greater than 0"),
                Arguments.of("negative warning weight", register(ok, new CatalogService("node1", "w", "w", List.of(),
                        "", 80, Map.of(), 1, -1, false, 0, 0)), "Warning must be greater or equal than 0"),
                Arguments.of("too many checks", new Command.CatalogRegister(ok, null, tooManyChecks, false),
                        "Too many checks"),
                Arguments.of("empty check ID", register(ok, null, check("node1", "", "", PASSING)), "Missing check ID"),
                Arguments.of("check output too long", register(ok, null, new CatalogCheck("node1", "c", "c", PASSING,
                        "", "o".repeat(Catalogs.MAX_OUTPUT_BYTES + 1), "", null, null, "", "", "", 0, 0, 0)),
                        "check output exceeds"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidRegistrations")
    void invalidRegistrationIsRefusedAsAWhole(String what, Command.CatalogRegister c, String message) {
        Applied a = apply(c);
        Result.Invalid invalid = assertInstanceOf(Result.Invalid.class, a.result(), what);
        assertTrue(invalid.message().startsWith(message), what + ": " + invalid.message());
        assertEquals(0, catalog.nodeCount(), what);
        assertEquals(Set.of(), a.catalogTopics(), what);
    }

    @Test
    void truncateCutsAtUtf8CharacterBoundaries() {
        assertEquals("abc", Catalogs.truncate("abc", 3));
        assertEquals("ab", Catalogs.truncate("abc", 2));
        assertEquals("", Catalogs.truncate(null, 5));
        assertEquals("é", Catalogs.truncate("éé", 3), "é is two bytes; half a character is dropped");
        assertEquals("", Catalogs.truncate("😀", 3), "no half surrogate pair");
    }

    // ---- check status and heartbeats ---------------------------------------------------------------------

    @Test
    void checkStatusUpdatesAndReportsUnknownChecks() {
        registerWeb(PASSING, PASSING);
        Applied a = apply(new Command.CheckStatus("node1", "web-check", CRITICAL, "connection refused"));
        assertEquals(Result.TRUE, a.result());
        assertEquals(Set.of(TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics());
        CatalogCheck c = catalog.check("node1", "web-check");
        assertEquals(CRITICAL, c.status());
        assertEquals("connection refused", c.output());
        assertEquals(1, c.createIndex());
        assertEquals(2, c.modifyIndex());
        assertEquals(2, catalog.serviceIndex("web"));

        Applied same = apply(new Command.CheckStatus("node1", "web-check", CRITICAL, "connection refused"));
        assertEquals(Result.TRUE, same.result());
        assertEquals(Set.of(), same.catalogTopics(), "same status and output change nothing");
        assertEquals(2, catalog.checksIndex());

        assertEquals(Result.FALSE, apply(new Command.CheckStatus("node1", "nope", PASSING, "")).result());
        assertEquals(Result.FALSE, apply(new Command.CheckStatus("ghost", "web-check", PASSING, "")).result());
    }

    @Test
    void checkStatusOutputIsTruncated() {
        registerWeb(PASSING, PASSING);
        apply(new Command.CheckStatus("node1", "web-check", WARNING, "x".repeat(Catalogs.MAX_OUTPUT_BYTES * 2)));
        assertEquals(Catalogs.MAX_OUTPUT_BYTES, catalog.check("node1", "web-check").output().length());
    }

    @Test
    void heartbeatTurnsNodeHealthPassingAndCounts() {
        registerWeb(CRITICAL, PASSING);
        assertEquals(0, catalog.heartbeats("node1"));
        Applied a = apply(new Command.NodeHeartbeat("node1"));
        assertEquals(Result.TRUE, a.result());
        assertEquals(Set.of(TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics());
        CatalogCheck serf = catalog.check("node1", CatalogView.NODE_HEALTH_CHECK);
        assertEquals(PASSING, serf.status());
        assertEquals(CatalogState.ALIVE, serf.output());
        assertEquals(1, catalog.heartbeats("node1"));

        Applied again = apply(new Command.NodeHeartbeat("node1"));
        assertEquals(Set.of(), again.catalogTopics(), "already passing: only counted");
        assertEquals(2, catalog.heartbeats("node1"));
        assertEquals(3, index);
        assertEquals(2, catalog.checksIndex());

        assertEquals(Result.FALSE, apply(new Command.NodeHeartbeat("ghost")).result());
        assertEquals(0, catalog.heartbeats("ghost"));
    }

    @Test
    void heartbeatOfANodeWithoutSerfHealthOnlyCounts() {
        apply(register(node("node1"), null));
        assertEquals(Result.TRUE, apply(new Command.NodeHeartbeat("node1")).result());
        assertEquals(1, catalog.heartbeats("node1"));
        assertNull(catalog.check("node1", CatalogView.NODE_HEALTH_CHECK));
    }

    // ---- health ------------------------------------------------------------------------------------------

    /** (node check, this service's check, another service's check on the same node) -> health of this service. */
    static Stream<Arguments> healthCases() {
        return Stream.of(
                Arguments.of(PASSING, PASSING, CRITICAL, PASSING),
                Arguments.of(PASSING, WARNING, PASSING, WARNING),
                Arguments.of(WARNING, PASSING, PASSING, WARNING),
                Arguments.of(CRITICAL, PASSING, PASSING, CRITICAL),
                Arguments.of(WARNING, CRITICAL, PASSING, CRITICAL),
                Arguments.of(PASSING, CRITICAL, WARNING, CRITICAL));
    }

    @ParameterizedTest(name = "node {0}, service {1}, other {2} -> {3}")
    @MethodSource("healthCases")
    void healthIsTheWorstOfNodeAndServiceChecks(HealthStatus nodeCheck, HealthStatus serviceCheck,
                                                HealthStatus otherCheck, HealthStatus expected) {
        registerWeb(nodeCheck, serviceCheck);
        apply(register(node("node1"), svc("node1", "db-1", "db"), check("node1", "db-check", "db-1", otherCheck)));
        CatalogService web = catalog.service("node1", "web-1");
        assertEquals(expected, catalog.health(web));
        assertEquals(List.of("serfHealth", "web-check"),
                catalog.checksOfInstance(web).stream().map(CatalogCheck::checkId).toList());
    }

    @Test
    void serviceWithoutChecksIsPassing() {
        apply(register(node("node1"), svc("node1", "w", "web")));
        assertEquals(PASSING, catalog.health(catalog.service("node1", "w")));
        assertEquals(List.of(), catalog.checksOfInstance(catalog.service("node1", "w")));
    }

    @Test
    void nodeChangesMoveTheIndexOfItsServices() {
        registerWeb(PASSING, PASSING);
        apply(register(node("node2"), svc("node2", "db-1", "db")));
        Applied a = apply(new Command.CheckStatus("node1", "serfHealth", CRITICAL, "gone"));
        assertEquals(Set.of(TOPIC_CHECKS, serviceTopic("web")), a.catalogTopics(), "db is on another node");
        assertEquals(3, catalog.serviceIndex("web"));
        assertEquals(2, catalog.serviceIndex("db"));

        Applied moved = apply(register(node("node1", "10.0.0.2", Map.of()), null));
        assertEquals(Set.of(TOPIC_NODES, serviceTopic("web")), moved.catalogTopics());
        assertEquals(4, catalog.serviceIndex("web"));
        assertEquals(4, catalog.nodesIndex());
    }

    @Test
    void checksInStateFiltersByStatus() {
        registerWeb(PASSING, CRITICAL);
        apply(register(node("node2"), null, check("node2", "serfHealth", "", WARNING)));
        assertEquals(3, catalog.checksInState(null).size());
        assertEquals(List.of("web-check"), catalog.checksInState(CRITICAL).stream().map(CatalogCheck::checkId).toList());
        assertEquals(List.of("node2"), catalog.checksInState(WARNING).stream().map(CatalogCheck::node).toList());
        assertEquals(List.of("node1"), catalog.checksInState(PASSING).stream().map(CatalogCheck::node).toList());
    }

    // ---- snapshots and codecs ----------------------------------------------------------------------------

    private static byte[] snapshot(KvState s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateCodec.write(s, out);
        return out.toByteArray();
    }

    @Test
    void snapshotRoundTripKeepsTheCatalogIdentical() throws IOException {
        registerWeb(PASSING, WARNING);
        apply(register(node("node2", "10.0.0.2", Map.of("rack", "b")), svc("node2", "Web-2", "WEB", "v2"),
                check("node2", "w2", "Web-2", CRITICAL)));
        apply(register(node("node1"), svc("node1", "old", "retired")));
        apply(new Command.CatalogDeregister("node1", "old", null));
        apply(new Command.KvSet("k", "v".getBytes(StandardCharsets.UTF_8), 0, Command.NO_CAS));
        apply(new Command.NodeHeartbeat("node1"));

        byte[] bytes = snapshot(state);
        KvState back = StateCodec.read(new ByteArrayInputStream(bytes));
        CatalogView c = back.catalog();
        assertEquals(catalog.nodes(), c.nodes());
        assertEquals(catalog.allServices(), c.allServices());
        assertEquals(catalog.checksInState(null), c.checksInState(null));
        assertEquals(catalog.services(), c.services());
        assertEquals(catalog.nodesIndex(), c.nodesIndex());
        assertEquals(catalog.servicesIndex(), c.servicesIndex());
        assertEquals(catalog.checksIndex(), c.checksIndex());
        for (String name : List.of("web", "retired", "never")) {
            assertEquals(catalog.serviceIndex(name), c.serviceIndex(name), name);
        }
        assertEquals(2, c.serviceInstances("web").size(), "the by-name index is rebuilt");
        assertEquals(catalog.health(catalog.service("node2", "Web-2")), c.health(c.service("node2", "Web-2")));
        assertEquals(0, c.heartbeats("node1"), "heartbeat counts are not part of snapshots");
        assertArrayEquals(bytes, snapshot(back), "byte-for-byte deterministic");
    }

    @Test
    void versionOneSnapshotWithoutCatalogIsStillRead() throws IOException {
        KvState kvOnly = new KvState();
        kvOnly.apply(1, new Command.KvSet("k", "v".getBytes(StandardCharsets.UTF_8), 0, Command.NO_CAS));
        byte[] current = snapshot(kvOnly);
        // An empty catalog section is 3 indexes (longs) and 4 counts (ints), an empty ACL section 2 indexes and 2
        // counts; the CRC32 (a long) follows them.
        int catalogSection = 3 * Long.BYTES + 4 * Integer.BYTES;
        int aclSection = 2 * Long.BYTES + 2 * Integer.BYTES;
        byte[] body = Arrays.copyOf(current, current.length - Long.BYTES - catalogSection - aclSection);
        ByteBuffer.wrap(body).putInt(8, 1);
        CRC32 crc = new CRC32();
        crc.update(body);
        byte[] v1 = ByteBuffer.allocate(body.length + Long.BYTES).put(body).putLong(crc.getValue()).array();

        KvState back = StateCodec.read(new ByteArrayInputStream(v1));
        assertEquals("v", new String(back.get("k").value(), StandardCharsets.UTF_8));
        assertEquals(0, back.catalog().nodeCount());
        assertEquals(0, back.catalog().catalogIndex());
        assertArrayEquals(current, snapshot(back), "written back in the current version");
    }

    @Test
    void catalogCommandsRoundTripThroughTheCommandCodec() {
        CatalogService s = new CatalogService("node1", "web-1", "web", List.of("a", "b"), "10.1.1.1", 443,
                Map.of("version", "2"), 5, 2, true, 0, 0);
        CatalogCheck c = new CatalogCheck("node1", "web-check", "HTTP on 443", WARNING, "notes", "output", "web-1",
                "web", List.of("a"), "http", "10s", "2s", 60_000, 0, 0);
        List<Command> commands = List.of(
                new Command.CatalogRegister(new CatalogNode("node1", "d3b0c9a2-6b8a-4c1e-9f59-0c0a6b1f3e11",
                        "10.0.0.1", Map.of("lan", "10.0.0.1", "wan", "1.2.3.4"), Map.of("rack", "r1"), 0, 0),
                        s, List.of(c, check("node1", "serfHealth", "", CRITICAL)), true),
                new Command.CatalogRegister(node("node2"), null, List.of(), false),
                new Command.CatalogDeregister("node1", "web-1", null),
                new Command.CatalogDeregister("node1", null, "web-check"),
                new Command.CatalogDeregister("node1", null, null),
                new Command.CheckStatus("node1", "web-check", PASSING, "ok"),
                new Command.NodeHeartbeat("node1"));
        for (Command command : commands) {
            byte[] bytes = CommandCodec.encode(command);
            assertEquals(command, CommandCodec.decode(bytes), command.toString());
            assertArrayEquals(bytes, CommandCodec.encode(CommandCodec.decode(bytes)));
        }
    }

    @Test
    void nullMetadataValuesBecomeEmptyAndStillDecode() {
        Map<String, String> meta = new HashMap<>();
        meta.put("k", null);
        CatalogNode n = new CatalogNode("node1", "", "10.0.0.1", meta, meta, 0, 0);
        assertEquals(Map.of("k", ""), n.meta(), "Go maps have no nil strings");
        Command c = register(n, new CatalogService("node1", "w", "w", List.of(), "", 1, meta, 1, 1, false, 0, 0));
        assertEquals(c, CommandCodec.decode(CommandCodec.encode(c)));
        assertEquals(Result.TRUE, apply(c).result());
    }

    @Test
    void restoreWakesEveryCatalogTopic() throws IOException {
        registerWeb(PASSING, PASSING);
        byte[] snap = snapshot(state);
        apply(register(node("node3"), svc("node3", "db", "db")));
        Applied a = apply(new Command.Restore(snap));
        assertEquals(Result.TRUE, a.result());
        assertTrue(a.catalogTopics().containsAll(Set.of(TOPIC_NODES, TOPIC_SERVICES, TOPIC_CHECKS,
                serviceTopic("web"), serviceTopic("db"))), a.catalogTopics().toString());
        assertNull(catalog.node("node3"));
        assertEquals(index, catalog.serviceIndex("db"), "a name that went away still moves forward");
        assertEquals(index, catalog.serviceIndex("web"));
    }
}
