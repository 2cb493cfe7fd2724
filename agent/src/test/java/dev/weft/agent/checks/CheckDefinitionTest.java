package dev.weft.agent.checks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.agent.checks.CheckDefinition.Kind;
import dev.weft.kvstore.state.HealthStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckDefinitionTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    record Valid(String json, Consumer<CheckDefinition> expect) {
        @Override
        public String toString() {
            return json;
        }
    }

    static Stream<Valid> validAgentChecks() {
        return Stream.of(
                new Valid("{'Name':'web','HTTP':'http://127.0.0.1:8080/health','Interval':'10s'}", d -> {
                    assertEquals("web", d.checkId(), "ID defaults to the name");
                    assertEquals("web", d.name());
                    assertEquals("", d.serviceId());
                    assertEquals(Kind.HTTP, d.kind());
                    assertEquals("http", d.type());
                    assertEquals("http://127.0.0.1:8080/health", d.http());
                    assertEquals("GET", d.method());
                    assertEquals(Map.of(), d.header());
                    assertEquals("", d.body());
                    assertFalse(d.tlsSkipVerify());
                    assertEquals(Duration.ofSeconds(10), d.interval());
                    assertEquals(Duration.ofSeconds(10), d.timeout(), "default timeout");
                    assertEquals("10s", d.intervalText());
                    assertEquals("10s", d.timeoutText());
                    assertEquals(HealthStatus.CRITICAL, d.status(), "Consul's default status");
                    assertEquals(Duration.ZERO, d.deregisterCriticalServiceAfter());
                    assertEquals(Duration.ZERO, d.ttl());
                }),
                new Valid("{'ID':'db-tcp','Name':'db','TCP':'127.0.0.1:5432','Interval':'1m30s','Timeout':'2s',"
                        + "'Status':'passing','ServiceID':'db','Notes':'port open'}", d -> {
                    assertEquals("db-tcp", d.checkId());
                    assertEquals(Kind.TCP, d.kind());
                    assertEquals("tcp", d.type());
                    assertEquals("127.0.0.1:5432", d.tcp());
                    assertEquals("1m30s", d.intervalText());
                    assertEquals("2s", d.timeoutText());
                    assertEquals(HealthStatus.PASSING, d.status());
                    assertEquals("db", d.serviceId());
                    assertEquals("port open", d.notes());
                    assertEquals("", d.method(), "no HTTP fields on a TCP check");
                }),
                new Valid("{'name':'beat','ttl':'30s','notes':'n','status':'Warning','checkid':'hb'}", d -> {
                    assertEquals("hb", d.checkId(), "CheckID accepted, keys case-insensitive");
                    assertEquals(Kind.TTL, d.kind());
                    assertEquals("ttl", d.type());
                    assertEquals(Duration.ofSeconds(30), d.ttl());
                    assertEquals(HealthStatus.WARNING, d.status());
                    assertEquals("", d.intervalText());
                    assertEquals("", d.timeoutText());
                    assertEquals(Duration.ZERO, d.interval());
                }),
                new Valid("{'ID':'x','Name':'n','HTTP':'https://example.test/h?q=1','Method':'POST',"
                        + "'Header':{'X-A':['1','2'],'Authorization':'Bearer t'},'Body':'{}','TLSSkipVerify':true,"
                        + "'Interval':'500ms','DeregisterCriticalServiceAfter':'90m'}", d -> {
                    assertEquals("POST", d.method());
                    assertEquals(Map.of("X-A", List.of("1", "2"), "Authorization", List.of("Bearer t")),
                            d.header());
                    assertEquals("{}", d.body());
                    assertTrue(d.tlsSkipVerify());
                    assertEquals(Duration.ofMillis(500), d.interval(), "kept as given; the runner applies 1s");
                    assertEquals("500ms", d.intervalText());
                    assertEquals(Duration.ofMinutes(90), d.deregisterCriticalServiceAfter());
                }),
                new Valid("{'name':'n','tcp':'localhost:1','interval':'5s','service_id':'svc',"
                        + "'tls_skip_verify':false,'deregister_critical_service_after':'1m'}", d -> {
                    assertEquals("svc", d.serviceId(), "snake_case alias");
                    assertEquals(Duration.ofMinutes(1), d.deregisterCriticalServiceAfter());
                }),
                new Valid("{'Name':'n','TCP':'[::1]:80','Interval':2000000000,'Timeout':'0s'}", d -> {
                    assertEquals(Duration.ofSeconds(2), d.interval(), "a number is nanoseconds, as in Go");
                    assertEquals(Duration.ofSeconds(10), d.timeout(), "timeout <= 0 means the default");
                }),
                new Valid("{'Name':'n','HTTP':'http://my_app_1:8080/','Interval':'1s'}", d ->
                        assertEquals("http://my_app_1:8080/", d.http(), "container names with underscores")),
                new Valid("{'Name':'n','TTL':'5s','Args':[],'GRPC':'','SuccessBeforePassing':0,"
                        + "'DisableRedirects':false,'Interval':'','Unknown':1}", d ->
                        assertEquals(Kind.TTL, d.kind(), "zero values of unsupported fields are fine")),
                new Valid("{'Name':'n','HTTP':'http://x/','TTL':'','Interval':'1s','Status':''}", d -> {
                    assertEquals(Kind.HTTP, d.kind(), "an empty TTL is no TTL");
                    assertEquals(HealthStatus.CRITICAL, d.status());
                }));
    }

    @ParameterizedTest
    @MethodSource("validAgentChecks")
    void parsesValidAgentChecks(Valid c) {
        c.expect().accept(CheckDefinition.parseAgentCheck(json(c.json())));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {'HTTP':'http://x/','Interval':'10s'}                        | Missing check name
            {'Name':'','TTL':'1s'}                                       | Missing check name
            {'Name':'n','HTTP':'http://x/'}                              | Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or Docker checks
            {'Name':'n','TCP':'h:1','Interval':'0s'}                     | Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or Docker checks
            {'Name':'n','TCP':'h:1','Interval':'-1s'}                    | Interval must be > 0
            {'Name':'n'}                                                 | Check must be one of HTTP, TCP or TTL
            {'Name':'n','Interval':'10s'}                                | Check must be one of HTTP, TCP or TTL
            {'Name':'n','HTTP':'http://x/','TCP':'h:1','Interval':'1s'}  | Check must be one of HTTP, TCP or TTL
            {'Name':'n','TCP':'h:1','TTL':'10s'}                         | Check must be one of HTTP, TCP or TTL
            {'Name':'n','TTL':'10s','Interval':'10s'}                    | Interval and TTL cannot both be specified
            {'Name':'n','TTL':'0s'}                                      | TTL must be > 0 for TTL checks
            {'Name':'n','TTL':'10x'}                                     | Invalid TTL: time: invalid duration "10x"
            {'Name':'n','TCP':'h:1','Interval':'soon'}                   | Invalid Interval: time: invalid duration "soon"
            {'Name':'n','TCP':'h:1','Interval':'1s','Timeout':'1'}       | Invalid Timeout
            {'Name':'n','TTL':'1s','DeregisterCriticalServiceAfter':'x'} | Invalid DeregisterCriticalServiceAfter
            {'Name':'n','TTL':'1s','Interval':true}                      | Interval must be a duration
            {'Name':'n','TTL':'10s','Status':'ok'}                       | Status must be one of passing, warning or critical
            {'Name':'n','Args':['/bin/true'],'Interval':'10s'}           | ScriptArgs/Args checks are not supported by weft
            {'Name':'n','ScriptArgs':['/bin/true'],'Interval':'10s'}     | ScriptArgs/Args checks are not supported by weft
            {'Name':'n','script_args':['/bin/true'],'Interval':'10s'}    | ScriptArgs/Args checks are not supported by weft
            {'Name':'n','Script':'/bin/true','Interval':'10s'}           | ScriptArgs/Args checks are not supported by weft
            {'Name':'n','DockerContainerID':'abc','Interval':'10s'}      | Docker checks are not supported by weft
            {'Name':'n','docker_container_id':'abc','Interval':'10s'}    | Docker checks are not supported by weft
            {'Name':'n','GRPC':'h:1','Interval':'10s'}                   | GRPC checks are not supported by weft
            {'Name':'n','H2PING':'h:1','Interval':'10s'}                 | H2PING checks are not supported by weft
            {'Name':'n','UDP':'h:1','Interval':'10s'}                    | UDP checks are not supported by weft
            {'Name':'n','AliasNode':'other'}                             | Alias checks are not supported by weft
            {'Name':'n','AliasService':'web'}                            | Alias checks are not supported by weft
            {'Name':'n','OSService':'nginx','Interval':'10s'}            | OSService checks are not supported by weft
            {'Name':'n','TTL':'5s','FailuresBeforeCritical':3}           | FailuresBeforeCritical is not supported by weft
            {'Name':'n','HTTP':'http://x/','Interval':'1s','DisableRedirects':true} | DisableRedirects is not supported by weft
            {'Name':'n','HTTP':'ftp://x/','Interval':'1s'}               | HTTP must be an http:// or https:// URL
            {'Name':'n','HTTP':'/health','Interval':'1s'}                | HTTP must be an http:// or https:// URL
            {'Name':'n','HTTP':'http://x:0/','Interval':'1s'}            | HTTP has no valid host:port
            {'Name':'n','HTTP':'http://x y/','Interval':'1s'}            | HTTP is not a valid URL
            {'Name':'n','TCP':'nohost','Interval':'1s'}                  | TCP must be host:port
            {'Name':'n','TCP':'h:99999','Interval':'1s'}                 | TCP must be host:port
            {'Name':'n','TCP':'::1:80','Interval':'1s'}                  | TCP must be host:port
            {'Name':'n','HTTP':'http://x/','Interval':'1s','Header':{'X':[1]}}   | Header values must be strings
            {'Name':'n','HTTP':'http://x/','Interval':'1s','Header':['X']}       | Header must be an object of string arrays
            {'Name':'n','HTTP':'http://x/','Interval':'1s','Header':{'X Y':['1']}} | invalid Header name
            {'Name':'n','HTTP':'http://x/','Interval':'1s','Method':'GE T'}      | invalid Method
            {'Name':'n','HTTP':'http://x/','Interval':'1s','TLSSkipVerify':'yes'} | TLSSkipVerify must be a boolean
            {'Name':5,'TTL':'1s'}                                        | Name must be a string
            ['Name']                                                     | must be a JSON object
            """)
    void refusesInvalidAgentChecks(String definition, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CheckDefinition.parseAgentCheck(json(definition)));
        assertTrue(e.getMessage().contains(message), () -> "expected \"" + message + "\" in: " + e.getMessage());
    }

    @Test
    void headerValueWithNewlineIsRefused() {
        JsonNode j = json("{'Name':'n','HTTP':'http://x/','Interval':'1s'}");
        ((com.fasterxml.jackson.databind.node.ObjectNode) j).putObject("Header").putArray("X").add("a\r\nB: c");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CheckDefinition.parseAgentCheck(j));
        assertTrue(e.getMessage().contains("invalid Header value"), e.getMessage());
    }

    @Test
    void oneServiceCheckGetsTheServiceIdAndDefaultName() {
        List<CheckDefinition> checks = CheckDefinition.parseServiceChecks(json(
                "{'Name':'web-svc','ID':'web','Check':{'HTTP':'http://127.0.0.1/','Interval':'10s',"
                        + "'ServiceID':'other'}}"), "web", "web-svc");
        assertEquals(1, checks.size());
        CheckDefinition d = checks.get(0);
        assertEquals("service:web", d.checkId());
        assertEquals("Service 'web-svc' check", d.name());
        assertEquals("web", d.serviceId(), "ServiceID is always the service's");
    }

    @Test
    void severalServiceChecksAreNumberedCheckFirst() {
        List<CheckDefinition> checks = CheckDefinition.parseServiceChecks(json(
                "{'check':{'TTL':'10s'},'checks':[{'TCP':'h:1','Interval':'5s'},"
                        + "{'CheckID':'own','Name':'Own name','HTTP':'http://h/','Interval':'5s','Status':'passing'},"
                        + "{'HTTP':'http://h/2','Interval':'5s'}]}"), "web", "web-svc");
        assertEquals(List.of("service:web:1", "service:web:2", "own", "service:web:4"),
                checks.stream().map(CheckDefinition::checkId).toList());
        assertEquals(List.of(Kind.TTL, Kind.TCP, Kind.HTTP, Kind.HTTP),
                checks.stream().map(CheckDefinition::kind).toList());
        assertEquals("Own name", checks.get(2).name());
        assertEquals(HealthStatus.PASSING, checks.get(2).status());
        assertEquals("Service 'web-svc' check", checks.get(3).name());
        assertTrue(checks.stream().allMatch(c -> c.serviceId().equals("web")));
    }

    @Test
    void emptyCheckObjectIsIgnoredAsConsulDoes() {
        List<CheckDefinition> checks = CheckDefinition.parseServiceChecks(json(
                "{'Check':{'Name':'','Interval':'','Args':[]},'Checks':[{'TTL':'10s'}]}"), "web", "web");
        assertEquals(List.of("service:web"), checks.stream().map(CheckDefinition::checkId).toList());
        assertEquals(List.of(), CheckDefinition.parseServiceChecks(json("{'Name':'web'}"), "web", "web"));
        assertEquals(List.of(), CheckDefinition.parseServiceChecks(json("{'Check':null,'Checks':[]}"), "web",
                "web"));
    }

    @Test
    void invalidServiceCheckIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CheckDefinition.parseServiceChecks(json(
                "{'Checks':[{'TTL':'10s'},{'HTTP':'http://h/'}]}"), "web", "web"));
        assertThrows(IllegalArgumentException.class, () -> CheckDefinition.parseServiceChecks(json(
                "{'Checks':{'TTL':'10s'}}"), "web", "web"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                CheckDefinition.parseServiceChecks(json("{'Check':{'Args':['x'],'Interval':'1s'}}"), "web", "web"));
        assertEquals("ScriptArgs/Args checks are not supported by weft", e.getMessage());
    }

    @Test
    void constructorKeepsDefinitionsConsistent() {
        assertThrows(IllegalArgumentException.class, () -> new CheckDefinition("id", "n", "", "", Kind.HTTP, "",
                "GET", null, "", false, "", null, Duration.ofSeconds(1), Duration.ofSeconds(1), null, null));
        assertThrows(IllegalArgumentException.class, () -> new CheckDefinition("id", "n", "", "", Kind.TTL, "",
                "", null, "", false, "", Duration.ZERO, null, null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new CheckDefinition("", "n", "", "", Kind.TTL, "",
                "", null, "", false, "", Duration.ofSeconds(1), null, null, null, null));
        CheckDefinition d = new CheckDefinition("id", "n", null, null, Kind.TTL, null, null, null, null, false,
                null, Duration.ofSeconds(1), null, null, null, null);
        assertEquals("", d.serviceId());
        assertEquals(HealthStatus.CRITICAL, d.status());
        assertEquals(Duration.ZERO, d.deregisterCriticalServiceAfter());
    }

    @Test
    void equalJsonGivesEqualDefinitions() {
        String j = "{'Name':'n','HTTP':'http://h/','Interval':'1s','Header':{'A':['1']}}";
        assertEquals(CheckDefinition.parseAgentCheck(json(j)), CheckDefinition.parseAgentCheck(json(j)));
    }
}
