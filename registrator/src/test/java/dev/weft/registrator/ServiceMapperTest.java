package dev.weft.registrator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.runtime.Container;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static dev.weft.registrator.TestContainers.container;
import static dev.weft.registrator.TestContainers.idOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Registrator's conventions, one table per concern. A service is summarized as "ID Name Address:Port [tags]".
 */
class ServiceMapperTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HOST = "192.0.2.10";
    static final RegistratorConfig CFG = RegistratorConfig.builder("n1", HOST).build();

    private static RegistratorConfig.Builder cfg() {
        return CFG.toBuilder();
    }

    record Case(String name, Container container, RegistratorConfig cfg, List<String> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case c(String name, TestContainers.Builder b, String... expected) {
        return new Case(name, b.build(), CFG, List.of(expected));
    }

    private static Case c(String name, TestContainers.Builder b, RegistratorConfig cfg, String... expected) {
        return new Case(name, b.build(), cfg, List.of(expected));
    }

    static Stream<Case> services() {
        return Stream.of(
                // which ports, IDs and default names
                c("one published port: image base name, host address and host port",
                        container("web").publish("80", 8080),
                        "n1:web:80 web 192.0.2.10:8080 []"),
                c("exposed but not published: nothing without -internal",
                        container("web").expose("80")),
                c("several ports: default name gets -<port>",
                        container("web").publish("443", 8443).publish("80", 8080),
                        "n1:web:80 web-80 192.0.2.10:8080 []", "n1:web:443 web-443 192.0.2.10:8443 []"),
                c("only the published ports count towards 'several'",
                        container("web").expose("9000").publish("80", 8080),
                        "n1:web:80 web 192.0.2.10:8080 []"),
                c("udp: ID suffix :udp and tag udp",
                        container("dns").publish("53/udp", 5353),
                        "n1:dns:53:udp dns 192.0.2.10:5353 [udp]"),
                c("tcp and udp on one port: two services",
                        container("dns").publish("53/tcp", 5353).publish("53/udp", 5353),
                        "n1:dns:53 dns-53 192.0.2.10:5353 []", "n1:dns:53:udp dns-53 192.0.2.10:5353 [udp]"),
                c("not running: nothing",
                        container("web").publish("80", 8080).stopped()),
                c("network mode none: nothing",
                        container("web").expose("80").mode("none"), cfg().internal(true).build()),

                // image base names
                c("image with registry port, path, tag and digest",
                        container("x").image("registry.local:5000/team/api:1.2@sha256:abcd").publish("80", 1),
                        "n1:x:80 api 192.0.2.10:1 []"),
                c("bare image name", container("x").image("redis").publish("6379", 6379),
                        "n1:x:6379 redis 192.0.2.10:6379 []"),
                c("image given by ID: the container name",
                        container("cache").image("sha256:0123456789abcdef").publish("6379", 6379),
                        "n1:cache:6379 cache 192.0.2.10:6379 []"),

                // SERVICE_NAME, SERVICE_<port>_NAME
                c("SERVICE_NAME", container("web").env("SERVICE_NAME", "api").publish("80", 8080),
                        "n1:web:80 api 192.0.2.10:8080 []"),
                c("SERVICE_NAME on several ports still gets -<port>",
                        container("web").env("SERVICE_NAME", "api").publish("80", 8080).publish("443", 8443),
                        "n1:web:80 api-80 192.0.2.10:8080 []", "n1:web:443 api-443 192.0.2.10:8443 []"),
                c("SERVICE_<port>_NAME beats SERVICE_NAME and is used as is",
                        container("web").env("SERVICE_NAME", "api").env("SERVICE_80_NAME", "www")
                                .publish("80", 8080).publish("443", 8443),
                        "n1:web:80 www 192.0.2.10:8080 []", "n1:web:443 api-443 192.0.2.10:8443 []"),
                c("empty SERVICE_NAME counts as unset", container("web").env("SERVICE_NAME", "")
                                .publish("80", 8080),
                        "n1:web:80 web 192.0.2.10:8080 []"),

                // SERVICE_ID
                c("SERVICE_ID replaces the ID", container("web").env("SERVICE_ID", "web-a").publish("80", 8080),
                        "web-a web 192.0.2.10:8080 []"),
                c("generic SERVICE_ID on several ports gets :<port>[:udp]; SERVICE_<port>_ID as is",
                        container("web").env("SERVICE_ID", "w").env("SERVICE_443_ID", "tls")
                                .publish("80", 8080).publish("443", 8443).publish("53/udp", 5353),
                        "w:53:udp web-53 192.0.2.10:5353 [udp]", "w:80 web-80 192.0.2.10:8080 []",
                        "tls web-443 192.0.2.10:8443 []"),

                // SERVICE_TAGS and -tags
                c("SERVICE_TAGS: commas, escaped commas, blanks and duplicates; then -tags, then udp",
                        container("dns").env("SERVICE_TAGS", "a, b\\,c, ,a").publish("53/udp", 53),
                        cfg().tagsAlways(List.of("dc1", "a")).build(),
                        "n1:dns:53:udp dns 192.0.2.10:53 [a, b,c, dc1, udp]"),
                c("SERVICE_<port>_TAGS beats SERVICE_TAGS",
                        container("web").env("SERVICE_TAGS", "all").env("SERVICE_443_TAGS", "tls")
                                .publish("80", 8080).publish("443", 8443),
                        "n1:web:80 web-80 192.0.2.10:8080 [all]", "n1:web:443 web-443 192.0.2.10:8443 [tls]"),

                // SERVICE_IGNORE and -explicit
                c("SERVICE_IGNORE", container("web").env("SERVICE_IGNORE", "true").publish("80", 8080)),
                c("SERVICE_IGNORE=false registers", container("web").env("SERVICE_IGNORE", "false")
                                .publish("80", 8080),
                        "n1:web:80 web 192.0.2.10:8080 []"),
                c("SERVICE_<port>_IGNORE drops one port; the other keeps its -<port> name",
                        container("web").env("SERVICE_80_IGNORE", "1").publish("80", 8080).publish("443", 8443),
                        "n1:web:443 web-443 192.0.2.10:8443 []"),
                c("SERVICE_<port>_IGNORE=false keeps one port of an ignored container",
                        container("web").label("SERVICE_IGNORE", "yes").env("SERVICE_443_IGNORE", "false")
                                .publish("80", 8080).publish("443", 8443),
                        "n1:web:443 web-443 192.0.2.10:8443 []"),
                c("-explicit: no name, no service", container("web").publish("80", 8080),
                        cfg().explicit(true).build()),
                c("-explicit: only the named port",
                        container("web").env("SERVICE_80_NAME", "www").publish("80", 8080).publish("443", 8443),
                        cfg().explicit(true).build(),
                        "n1:web:80 www 192.0.2.10:8080 []"),
                c("-explicit: SERVICE_NAME names every port",
                        container("web").env("SERVICE_NAME", "w").publish("80", 8080),
                        cfg().explicit(true).build(),
                        "n1:web:80 w 192.0.2.10:8080 []"),

                // labels, env, weft.*
                c("a SERVICE_ label beats the same env key",
                        container("web").env("SERVICE_NAME", "from-env").label("SERVICE_NAME", "from-label")
                                .publish("80", 8080),
                        "n1:web:80 from-label 192.0.2.10:8080 []"),
                c("a port-specific env key beats a generic label",
                        container("web").env("SERVICE_80_NAME", "env80").label("SERVICE_NAME", "label")
                                .publish("80", 8080),
                        "n1:web:80 env80 192.0.2.10:8080 []"),
                c("weft.service.name beats SERVICE_NAME label and env",
                        container("web").env("SERVICE_NAME", "e").label("SERVICE_NAME", "l")
                                .label("weft.service.name", "w").publish("80", 8080),
                        "n1:web:80 w 192.0.2.10:8080 []"),
                c("SERVICE_<port>_NAME beats the generic weft.service.name",
                        container("web").env("SERVICE_80_NAME", "p").label("weft.service.name", "w")
                                .publish("80", 8080),
                        "n1:web:80 p 192.0.2.10:8080 []"),
                c("weft.service.<port>.name, .id, .tags",
                        container("web").label("weft.service.443.name", "tls").label("weft.service.443.id", "t1")
                                .label("weft.service.tags", "x,y").publish("80", 8080).publish("443", 8443),
                        "n1:web:80 web-80 192.0.2.10:8080 [x, y]", "t1 tls 192.0.2.10:8443 [x, y]"),
                c("weft.service.ignore and weft.service.<port>.ignore",
                        container("web").label("weft.service.ignore", "true").label("weft.service.80.ignore", "false")
                                .publish("80", 8080).publish("443", 8443),
                        "n1:web:80 web-80 192.0.2.10:8080 []"),
                c("weft.* in env is not read", container("web").env("weft.service.name", "w").publish("80", 8080),
                        "n1:web:80 web 192.0.2.10:8080 []"),

                // addresses: published ports
                c("a specific host binding is the address",
                        container("web").publish("80", "127.0.0.1", 8080),
                        "n1:web:80 web 127.0.0.1:8080 []"),
                c("IPv4 and IPv6 wildcard bindings of one port: one service",
                        container("web").publish("80", "0.0.0.0", 8080).publish("80", "::", 8080),
                        "n1:web:80 web 192.0.2.10:8080 []"),
                c("a specific IPv6 binding", container("web").publish("80", "::1", 8080),
                        "n1:web:80 web [::1]:8080 []"),
                c("-registrator-ip forces the address of published ports",
                        container("web").publish("80", "10.1.1.1", 8080).publish("443", 8443),
                        cfg().forcedIp("127.0.0.1").build(),
                        "n1:web:80 web-80 127.0.0.1:8080 []", "n1:web:443 web-443 127.0.0.1:8443 []"),

                // addresses: the container's own (-internal, networks)
                c("-internal: exposed ports on the container's address",
                        container("web").expose("80", "9000").publish("443", 8443), cfg().internal(true).build(),
                        "n1:web:80 web-80 172.17.0.2:80 []", "n1:web:443 web-443 172.17.0.2:443 []",
                        "n1:web:9000 web-9000 172.17.0.2:9000 []"),
                c("-internal: -registrator-ip does not apply",
                        container("web").expose("80"), cfg().internal(true).forcedIp("127.0.0.1").build(),
                        "n1:web:80 web 172.17.0.2:80 []"),
                c("-internal: the network of the network mode among several",
                        container("web").mode("app").network("zzz", "10.9.0.2", "").network("app", "10.8.0.2", "")
                                .expose("80"), cfg().internal(true).build(),
                        "n1:web:80 web 10.8.0.2:80 []"),
                c("-internal without any address: nothing",
                        container("web").noNetworks().expose("80"), cfg().internal(true).build()),
                c("weft.network picks the network: its address and the container ports",
                        container("web").network("front", "10.5.0.7", "").label("weft.network", "front")
                                .expose("9000").publish("80", 8080),
                        "n1:web:80 web-80 10.5.0.7:80 []", "n1:web:9000 web-9000 10.5.0.7:9000 []"),
                c("SERVICE_NETWORK picks the network (by ID too)",
                        container("web").network("front", "10.5.0.7", "").env("SERVICE_NETWORK", "id-front")
                                .publish("80", 8080),
                        "n1:web:80 web 10.5.0.7:80 []"),
                c("weft.network beats SERVICE_NETWORK",
                        container("web").network("a", "10.1.0.2", "").network("b", "10.2.0.2", "")
                                .label("SERVICE_NETWORK", "a").label("weft.network", "b").publish("80", 8080),
                        "n1:web:80 web 10.2.0.2:80 []"),
                c("a named network the container is not on: nothing (yet)",
                        container("web").label("weft.network", "elsewhere").publish("80", 8080)),
                c("useIpFromNetwork: the container's address on that network",
                        container("web").network("weft0", "10.44.1.5", "").publish("80", 8080),
                        cfg().useIpFromNetwork("weft0").build(),
                        "n1:web:80 web 10.44.1.5:80 []"),
                c("useIpFromNetwork the container is not on: host address",
                        container("web").publish("80", 8080), cfg().useIpFromNetwork("weft0").build(),
                        "n1:web:80 web 192.0.2.10:8080 []"),
                c("a weft overlay network is preferred over the host address",
                        container("web").network("ov1", "10.99.0.3", "").expose("8080"),
                        cfg().overlayNetwork(n -> n.startsWith("ov")).build(),
                        "n1:web:8080 web 10.99.0.3:8080 []"),
                c("overlay recognized by network ID",
                        container("web").network("blue", "10.99.0.3", "").publish("80", 8080),
                        cfg().overlayNetwork("id-blue"::equals).build(),
                        "n1:web:80 web 10.99.0.3:80 []"),
                c("IPv6 when the container has only IPv6",
                        container("web").noNetworks().mode("v6net").network("v6net", "", "fd00::5").expose("80"),
                        cfg().internal(true).build(),
                        "n1:web:80 web [fd00::5]:80 []"),
                c("dual stack: IPv4",
                        container("web").noNetworks().mode("ds").network("ds", "10.0.0.5", "fd00::5").expose("80"),
                        cfg().internal(true).build(),
                        "n1:web:80 web 10.0.0.5:80 []"),

                // host networking
                c("host network: ports from weft.service.ports on the host address",
                        container("app").mode("host").label("weft.service.ports", "8080, 53/udp"),
                        "n1:app:53:udp app-53 192.0.2.10:53 [udp]", "n1:app:8080 app-8080 192.0.2.10:8080 []"),
                c("host network: SERVICE_PORTS, and -registrator-ip applies",
                        container("app").mode("host").env("SERVICE_PORTS", "9090"),
                        cfg().forcedIp("127.0.0.1").build(),
                        "n1:app:9090 app 127.0.0.1:9090 []"),
                c("host network without a list: the exposed ports",
                        container("app").mode("host").expose("7000"),
                        "n1:app:7000 app 192.0.2.10:7000 []"),
                c("host network: garbage in the list is skipped",
                        container("app").mode("host").label("weft.service.ports", "x,70000,81"),
                        "n1:app:81 app 192.0.2.10:81 []"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("services")
    void services(Case tc) {
        assertEquals(tc.expected, summaries(ServiceMapper.map(tc.container, tc.cfg)), tc.name);
    }

    static List<String> summaries(List<RegisteredService> services) {
        List<String> out = new ArrayList<>();
        for (RegisteredService s : services) {
            List<String> tags = new ArrayList<>();
            s.registration().get("Tags").forEach(t -> tags.add(t.asText()));
            assertEquals(s.id(), s.registration().get("ID").asText());
            out.add(s.id() + " " + s.name() + " " + ServiceMapper.hostPort(s.address(), s.port()) + " " + tags);
        }
        return out;
    }

    // ---- Meta ----

    record MetaCase(String name, Container container, Map<String, String> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static MetaCase m(String name, TestContainers.Builder b, String... kv) {
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            expected.put(kv[i], kv[i + 1]);
        }
        Container c = b.build();
        expected.put("external-source", "docker");
        expected.put("container-id", c.id());
        return new MetaCase(name, c, expected);
    }

    static Stream<MetaCase> meta() {
        return Stream.of(
                m("always external-source and container-id", container("web").publish("80", 8080)),
                m("other SERVICE_* keys, lower-cased",
                        container("web").env("SERVICE_REGION", "eu").env("SERVICE_Team_Owner", "ops")
                                .publish("80", 8080),
                        "region", "eu", "team_owner", "ops"),
                m("settings are not meta",
                        container("web").env("SERVICE_NAME", "n").env("SERVICE_ID", "i").env("SERVICE_TAGS", "t")
                                .env("SERVICE_CHECK_HTTP", "/").env("SERVICE_CHECK_SCRIPT", "x")
                                .env("SERVICE_NETWORK", "bridge").env("SERVICE_PORTS", "1")
                                .env("SERVICE_IGNORE", "no").env("OTHER", "x").publish("80", 8080)),
                m("port-specific meta beats generic; other ports' keys do not apply",
                        container("web").env("SERVICE_REGION", "eu").env("SERVICE_80_REGION", "us")
                                .env("SERVICE_81_REGION", "ap").publish("80", 8080),
                        "region", "us"),
                m("label beats env; weft.service.meta.* beats both and keeps its case",
                        container("web").env("SERVICE_REGION", "env").label("SERVICE_REGION", "label")
                                .env("SERVICE_TIER", "env").label("weft.service.meta.tier", "weft")
                                .label("weft.service.meta.Zone", "z1").label("weft.service.80.meta.rack", "r9")
                                .publish("80", 8080),
                        "region", "label", "tier", "weft", "Zone", "z1", "rack", "r9"),
                m("other weft.service.* keys are ignored; bad key characters become _; reserved keys stay",
                        container("web").label("weft.service.owner", "x").label("weft.service.meta.a.b", "1")
                                .env("SERVICE_EXTERNAL-SOURCE", "me").publish("80", 8080),
                        "a_b", "1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("meta")
    void meta(MetaCase tc) {
        List<RegisteredService> s = ServiceMapper.map(tc.container, CFG);
        assertEquals(1, s.size());
        Map<String, String> actual = new TreeMap<>();
        s.get(0).registration().get("Meta").properties().forEach(e -> actual.put(e.getKey(), e.getValue().asText()));
        assertEquals(new TreeMap<>(tc.expected), actual, tc.name);
    }

    // ---- checks ----

    record CheckCase(String name, Container container, RegistratorConfig cfg, String expectedChecks) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static CheckCase k(String name, TestContainers.Builder b, String expected) {
        return new CheckCase(name, b.build(), CFG, expected);
    }

    private static CheckCase k(String name, TestContainers.Builder b, RegistratorConfig cfg, String expected) {
        return new CheckCase(name, b.build(), cfg, expected);
    }

    private static final String HTTP_NAME = "\"CheckID\":\"service:n1:web:80\",\"Name\":\"Service 'web' check\"";

    static Stream<CheckCase> checks() {
        return Stream.of(
                k("no check keys, no HEALTHCHECK: no Checks", container("web").publish("80", 8080), "null"),
                k("SERVICE_CHECK_HTTP: URL of the registered address and port; default interval and timeout",
                        container("web").env("SERVICE_CHECK_HTTP", "/health").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://192.0.2.10:8080/health\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("path without a slash; interval, timeout, initial status, deregister-after",
                        container("web").env("SERVICE_CHECK_HTTP", "ping").env("SERVICE_CHECK_INTERVAL", "2s")
                                .env("SERVICE_CHECK_TIMEOUT", "500ms").env("SERVICE_CHECK_INITIAL_STATUS", "Passing")
                                .env("SERVICE_CHECK_DEREGISTER_AFTER", "1m30s").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://192.0.2.10:8080/ping\",\"Interval\":\"2s\","
                                + "\"Timeout\":\"500ms\",\"Status\":\"passing\","
                                + "\"DeregisterCriticalServiceAfter\":\"1m30s\"}]"),
                k("invalid interval/timeout fall back; invalid status and deregister-after are dropped",
                        container("web").env("SERVICE_CHECK_HTTP", "/").env("SERVICE_CHECK_INTERVAL", "soon")
                                .env("SERVICE_CHECK_TIMEOUT", "0s").env("SERVICE_CHECK_INITIAL_STATUS", "maybe")
                                .env("SERVICE_CHECK_DEREGISTER_AFTER", "-1m").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://192.0.2.10:8080/\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("SERVICE_CHECK_HTTPS",
                        container("web").env("SERVICE_CHECK_HTTPS", "/h").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"https://192.0.2.10:8080/h\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("SERVICE_CHECK_TCP",
                        container("web").env("SERVICE_CHECK_TCP", "true").env("SERVICE_CHECK_TIMEOUT", "3s")
                                .publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"TCP\":\"192.0.2.10:8080\",\"Interval\":\"10s\",\"Timeout\":\"3s\"}]"),
                k("SERVICE_CHECK_TCP=false: no check",
                        container("web").env("SERVICE_CHECK_TCP", "false").publish("80", 8080), "null"),
                k("SERVICE_CHECK_TTL: no interval or timeout",
                        container("web").env("SERVICE_CHECK_TTL", "30s").env("SERVICE_CHECK_INTERVAL", "5s")
                                .env("SERVICE_CHECK_INITIAL_STATUS", "warning").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"TTL\":\"30s\",\"Status\":\"warning\"}]"),
                k("invalid TTL: no check", container("web").env("SERVICE_CHECK_TTL", "forever").publish("80", 8080),
                        "null"),
                k("one check per service: HTTP before TTL before TCP",
                        container("web").env("SERVICE_CHECK_TCP", "1").env("SERVICE_CHECK_TTL", "9s")
                                .env("SERVICE_CHECK_HTTP", "/a").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://192.0.2.10:8080/a\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("TTL before TCP",
                        container("web").env("SERVICE_CHECK_TCP", "1").env("SERVICE_CHECK_TTL", "9s")
                                .publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"TTL\":\"9s\"}]"),
                k("weft.service.check.* spelling beats SERVICE_CHECK_*",
                        container("web").env("SERVICE_CHECK_HTTP", "/env").label("weft.service.check.http", "/weft")
                                .label("weft.service.check.initial-status", "passing")
                                .label("weft.service.check.deregister-after", "5m").publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://192.0.2.10:8080/weft\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\",\"Status\":\"passing\","
                                + "\"DeregisterCriticalServiceAfter\":\"5m\"}]"),
                k("SERVICE_<port>_CHECK_HTTP",
                        container("web").env("SERVICE_CHECK_HTTP", "/all").env("SERVICE_80_CHECK_HTTP", "/80")
                                .publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://192.0.2.10:8080/80\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("forced address in the check URL",
                        container("web").env("SERVICE_CHECK_HTTP", "/").publish("80", 8080),
                        CFG.toBuilder().forcedIp("127.0.0.1").build(),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://127.0.0.1:8080/\",\"Interval\":\"10s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("IPv6 address in brackets",
                        container("web").noNetworks().mode("v6").network("v6", "", "fd00::7").expose("80")
                                .env("SERVICE_CHECK_HTTP", "/").env("SERVICE_CHECK_INTERVAL", "1s"),
                        CFG.toBuilder().internal(true).build(),
                        "[{" + HTTP_NAME + ",\"HTTP\":\"http://[fd00::7]:80/\",\"Interval\":\"1s\","
                                + "\"Timeout\":\"10s\"}]"),
                k("HTTP and TCP checks do not apply to UDP ports",
                        container("dns").env("SERVICE_CHECK_HTTP", "/").env("SERVICE_CHECK_TCP", "1")
                                .publish("53/udp", 53), "null"),
                k("HEALTHCHECK healthy: a TTL check of 3 resyncs, passing",
                        container("web").health("healthy", "ok").publish("80", 8080),
                        "[{\"CheckID\":\"service:n1:web:80:docker-health\",\"Name\":\"Docker health of web\","
                                + "\"Notes\":\"Docker HEALTHCHECK status of container web, kept by the registrator\","
                                + "\"TTL\":\"180s\",\"Status\":\"passing\"}]"),
                k("HEALTHCHECK starting: critical; TTL follows -resync",
                        container("web").health("starting", "").publish("80", 8080),
                        CFG.toBuilder().resync(Duration.ofSeconds(10)).build(),
                        "[{\"CheckID\":\"service:n1:web:80:docker-health\",\"Name\":\"Docker health of web\","
                                + "\"Notes\":\"Docker HEALTHCHECK status of container web, kept by the registrator\","
                                + "\"TTL\":\"30s\",\"Status\":\"critical\"}]"),
                k("metadata check and HEALTHCHECK together",
                        container("web").health("unhealthy", "boom").env("SERVICE_CHECK_TTL", "1m")
                                .publish("80", 8080),
                        "[{" + HTTP_NAME + ",\"TTL\":\"1m\"},"
                                + "{\"CheckID\":\"service:n1:web:80:docker-health\",\"Name\":\"Docker health of web\","
                                + "\"Notes\":\"Docker HEALTHCHECK status of container web, kept by the registrator\","
                                + "\"TTL\":\"180s\",\"Status\":\"critical\"}]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("checks")
    void checks(CheckCase tc) throws Exception {
        List<RegisteredService> s = ServiceMapper.map(tc.container, tc.cfg);
        assertEquals(1, s.size());
        JsonNode actual = s.get(0).registration().get("Checks");
        assertEquals(JSON.readTree(tc.expectedChecks), actual == null ? JSON.nullNode() : actual, tc.name);
    }

    // ---- the HEALTHCHECK passthrough's pushed status ----

    record HealthCase(String docker, String output, String status, String expectedOutput) {
        @Override
        public String toString() {
            return docker;
        }
    }

    static Stream<HealthCase> health() {
        return Stream.of(
                new HealthCase("healthy", "200 OK", "passing", "200 OK"),
                new HealthCase("starting", "", "critical", "Docker health: starting"),
                new HealthCase("unhealthy", "connection refused", "critical", "connection refused"),
                new HealthCase("something-new", "", "critical", "Docker health: something-new"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("health")
    void healthPassthrough(HealthCase tc) {
        Container c = container("web").health(tc.docker, tc.output).publish("80", 8080).build();
        RegisteredService s = ServiceMapper.map(c, CFG).get(0);
        assertEquals(new RegisteredService.DockerHealth("service:n1:web:80:docker-health", tc.status,
                tc.expectedOutput), s.health());
        assertEquals(idOf("web"), s.containerId());
    }

    // ---- single cases ----

    @Test
    void containerNetworkModeUsesTheNetworksOfTheSharedContainer() {
        Container infra = container("infra").noNetworks().mode("pod").network("pod", "10.7.0.9", "").build();
        Container app = container("app").noNetworks().mode("container:" + infra.id()).expose("8080").build();
        RegistratorConfig internal = cfg().internal(true).build();
        assertEquals(List.of("n1:app:8080 app 10.7.0.9:8080 []"),
                summaries(ServiceMapper.map(app, infra, internal)));
        assertEquals(List.of(), ServiceMapper.map(app, internal), "without the shared container: no address");
    }

    @Test
    void sameDefinitionIgnoresOnlyTheDockerHealthStatus() {
        TestContainers.Builder b = container("web").publish("80", 8080);
        RegisteredService healthy = ServiceMapper.map(b.health("healthy", "ok").build(), CFG).get(0);
        RegisteredService unhealthy = ServiceMapper.map(b.health("unhealthy", "down").build(), CFG).get(0);
        assertTrue(healthy.sameDefinition(unhealthy));
        assertFalse(healthy.equals(unhealthy));
        RegisteredService tagged = ServiceMapper.map(b.env("SERVICE_TAGS", "x").build(), CFG).get(0);
        assertFalse(healthy.sameDefinition(tagged));
        assertFalse(healthy.sameDefinition(null));
    }

    @Test
    void registrationIsACopy() {
        RegisteredService s = ServiceMapper.map(container("web").publish("80", 8080).build(), CFG).get(0);
        s.registration().put("Name", "changed");
        assertEquals("web", s.name());
    }

    @Test
    void limitsOfTheCatalogAreRespected() {
        TestContainers.Builder b = container("web").publish("80", 8080);
        StringBuilder tags = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            b.env("SERVICE_K" + i, "v".repeat(600));
            tags.append("t").append(i).append(',');
        }
        tags.append("x".repeat(300));
        RegisteredService s = ServiceMapper.map(b.env("SERVICE_TAGS", tags.toString()).build(), CFG).get(0);
        JsonNode reg = s.registration();
        assertEquals(64, reg.get("Meta").size());
        assertEquals("docker", reg.at("/Meta/external-source").asText());
        reg.get("Meta").forEach(v -> assertTrue(v.asText().length() <= 512));
        assertEquals(64, reg.get("Tags").size());
    }

    @Test
    void goDurations() {
        for (String ok : List.of("1s", "10s", "1m30s", "1.5h", "500ms", "2us", "0.5s", "+3s")) {
            assertTrue(ServiceMapper.positiveDuration(ok), ok);
        }
        for (String bad : List.of("", "0", "0s", "-1s", "10", "s", "1x", "1s 2s", "0m0s", "soon")) {
            assertFalse(ServiceMapper.positiveDuration(bad), bad);
        }
    }

    @Test
    void configDefaults() {
        RegistratorConfig d = RegistratorConfig.builder("n", "10.0.0.1").build();
        assertEquals(Duration.ofSeconds(60), d.resync());
        assertEquals(Duration.ofSeconds(180), d.healthTtl());
        assertEquals(RegistratorConfig.Deregister.ALWAYS, d.deregister());
        assertEquals(RegistratorConfig.Deregister.ON_SUCCESS, RegistratorConfig.Deregister.parse("on-success"));
        assertFalse(d.internal() || d.explicit());
        assertEquals(null, d.forcedIp());
        assertFalse(d.overlayNetwork().test("anything"));
    }
}
