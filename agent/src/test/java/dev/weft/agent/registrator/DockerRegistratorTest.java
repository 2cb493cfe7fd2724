package dev.weft.agent.registrator;

import dev.weft.agent.RegistratorSettings;
import dev.weft.agent.TestAgent;
import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.kvstore.testing.Poll;
import dev.weft.runtime.testing.DockerDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registrator end to end against a real, private dockerd: containers become catalog services with checks,
 * leave when they stop, and the catalog equals reality after dockerd restarts, agent restarts and bursts.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class DockerRegistratorTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static DockerDaemon docker;

    @BeforeAll
    static void startDocker() throws Exception {
        docker = DockerDaemon.start();
    }

    /** Each test starts from a daemon without containers (the registrator registers every running one). */
    @AfterEach
    void removeContainers() {
        String ids = docker.output("ps", "-aq").strip();
        if (!ids.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(List.of(ids.split("\\s+")));
            docker.exec(rm.toArray(String[]::new));
        }
    }

    @AfterAll
    static void stopDocker() {
        if (docker != null) {
            docker.close();
        }
    }

    private static TestAgent agent(String node, Path dir) throws Exception {
        return TestAgent.start(node, dir, c -> c.withDiscovery(c.discovery().withRegistrator(
                RegistratorSettings.defaults().withDockerHost(docker.host()).withForcedIp("127.0.0.1")
                        .withResync(Duration.ofSeconds(5)).withTags(List.of("from-docker"), null))));
    }

    /** Services of this node registered by the registrator (Meta external-source=docker), by ID. */
    private static Set<String> dockerServices(TestAgent a) {
        String node = a.agent().config().nodeName();
        return a.agent().store().read(v -> v.catalog().servicesOfNode(node).stream()
                .filter(s -> "docker".equals(s.meta().get("external-source")))
                .map(CatalogService::id).collect(Collectors.toCollection(TreeSet::new)));
    }

    private static CatalogService service(TestAgent a, String id) {
        String node = a.agent().config().nodeName();
        return a.agent().store().read(v -> v.catalog().service(node, id));
    }

    private static List<CatalogCheck> checks(TestAgent a, CatalogService s) {
        return a.agent().store().read(v -> v.catalog().checksOfInstance(s));
    }

    private static String httpd(String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--name", name, "-p", "127.0.0.1::8080"));
        args.addAll(List.of(extra));
        args.addAll(List.of(docker.image(), "httpd", "-f", "-p", "8080"));
        return docker.run(args.toArray(String[]::new));
    }

    @Test
    void publishedPortBecomesAServiceWithAPassingHttpCheckAndLeavesOnStop() throws Exception {
        try (TestAgent a = agent("reg1", Files.createTempDirectory("weft-reg-"))) {
            httpd("web1", "-e", "SERVICE_NAME=web", "-e", "SERVICE_TAGS=blue,v1",
                    "-e", "SERVICE_CHECK_HTTP=/", "-e", "SERVICE_CHECK_INTERVAL=1s",
                    "-l", "SERVICE_VERSION=1.2");
            String id = "reg1:web1:8080";
            CatalogService s = Poll.until(WAIT, () -> id + " in the catalog", () -> service(a, id));
            assertEquals("web", s.service());
            assertEquals("127.0.0.1", s.address());
            assertTrue(s.port() > 0 && s.port() != 8080, "the published host port: " + s.port());
            assertEquals(List.of("blue", "v1", "from-docker"), s.tags(), "SERVICE_TAGS, then -tags");
            assertEquals("1.2", s.meta().get("version"), s.meta().toString());
            Poll.until(WAIT, () -> id + " HTTP check passing", () -> checks(a, service(a, id)).stream()
                    .anyMatch(c -> !c.isNodeCheck() && c.type().equals("http")
                            && c.status() == HealthStatus.PASSING));

            docker.exec("stop", "-t", "1", "web1");
            Poll.until(WAIT, () -> id + " gone after stop", () -> service(a, id) == null);
            docker.exec("rm", "web1");
        }
    }

    @Test
    void ignoredAndMultiPortContainersFollowRegistratorsNaming() throws Exception {
        try (TestAgent a = agent("reg2", Files.createTempDirectory("weft-reg-"))) {
            docker.run("--name", "multi", "-p", "127.0.0.1::8080", "-p", "127.0.0.1::9090",
                    docker.image(), "httpd", "-f", "-p", "8080");
            docker.run("--name", "hidden", "-p", "127.0.0.1::8080", "-e", "SERVICE_IGNORE=1",
                    docker.image(), "httpd", "-f", "-p", "8080");
            Poll.until(WAIT, () -> "multi's two services", () -> dockerServices(a).equals(
                    Set.of("reg2:multi:8080", "reg2:multi:9090")));
            assertEquals("busybox-8080", service(a, "reg2:multi:8080").service());
            assertEquals("busybox-9090", service(a, "reg2:multi:9090").service());
            docker.exec("rm", "-f", "multi", "hidden");
            Poll.until(WAIT, () -> "all gone", () -> dockerServices(a).isEmpty());
        }
    }

    @Test
    void catalogEqualsRealityAfterDockerdRestartsAndAgentRestarts() throws Exception {
        Path dir = Files.createTempDirectory("weft-reg-");
        TestAgent first = agent("reg3", dir);
        try {
            httpd("keep", "--restart", "always"); // comes back after the dockerd restart
            httpd("going");
            Poll.until(WAIT, () -> "two services", () -> dockerServices(first).equals(
                    Set.of("reg3:keep:8080", "reg3:going:8080")));

            // The event stream dies with dockerd; while it is down nothing is heard. Containers without a
            // restart policy stop with the daemon.
            docker.restart();
            docker.exec("rm", "-f", "going");
            httpd("new");
            Poll.until(WAIT, () -> "reality after dockerd restart", () -> dockerServices(first).equals(
                    Set.of("reg3:keep:8080", "reg3:new:8080")));
        } catch (Throwable t) {
            first.crashKeepData();
            TestAgent.deleteDir(dir);
            throw t;
        }
        first.crashKeepData();
        // Agent down: containers removed meanwhile become ghosts unless the restarted agent reconciles.
        docker.exec("rm", "-f", "new");
        try (TestAgent second = agent("reg3", dir)) {
            Poll.until(WAIT, () -> "ghost removed after agent restart", () -> dockerServices(second).equals(
                    Set.of("reg3:keep:8080")));
        } finally {
            TestAgent.deleteDir(dir);
        }
    }

    @Test
    void aBurstOfOneHundredContainersLosesNothing() throws Exception {
        try (TestAgent a = agent("reg4", Files.createTempDirectory("weft-reg-"))) {
            Set<String> expected = new TreeSet<>();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                names.add("b" + i);
                expected.add("reg4:b" + i + ":8080");
            }
            // docker create all, then start them in one command: the daemon starts them back to back.
            for (String n : names) {
                docker.exec("create", "--name", n, "-p", "127.0.0.1::8080", docker.image(), "httpd", "-f", "-p",
                        "8080");
            }
            List<String> start = new ArrayList<>(List.of("start"));
            start.addAll(names);
            docker.exec(start.toArray(String[]::new));
            Poll.until(Duration.ofSeconds(90), () -> "100 services (have " + dockerServices(a).size() + ")",
                    () -> dockerServices(a).equals(expected));
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(names);
            docker.exec(rm.toArray(String[]::new));
            Poll.until(Duration.ofSeconds(90), () -> "all 100 gone (have " + dockerServices(a).size() + ")",
                    () -> dockerServices(a).isEmpty());
        }
    }

    @Test
    void dockerHealthcheckIsPassedThroughAsACheck() throws Exception {
        try (TestAgent a = agent("reg5", Files.createTempDirectory("weft-reg-"))) {
            httpd("healthy", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s",
                    "--health-retries", "1");
            String id = "reg5:healthy:8080";
            Poll.until(WAIT, () -> id + " registered", () -> service(a, id));
            Poll.until(WAIT, () -> "docker health check critical (no /tmp/ok)", () -> dockerHealth(a, id)
                    == HealthStatus.CRITICAL);
            docker.exec("exec", "healthy", "sh", "-c", ": > /tmp/ok");
            Poll.until(WAIT, () -> "docker health check passing", () -> dockerHealth(a, id)
                    == HealthStatus.PASSING);
            docker.exec("rm", "-f", "healthy");
        }
    }

    @Test
    void deregisterOnSuccessKeepsServicesOfContainersThatFailed() throws Exception {
        try (TestAgent a = TestAgent.start("reg6", Files.createTempDirectory("weft-reg-"), c -> c.withDiscovery(
                c.discovery().withRegistrator(RegistratorSettings.defaults().withDockerHost(docker.host())
                        .withForcedIp("127.0.0.1").withResync(Duration.ofSeconds(5))
                        .withModes(false, false, "on-success"))))) {
            // Each container serves one connection on 8080 and then exits with the given code.
            docker.run("--name", "fails", "-p", "127.0.0.1::8080", docker.image(), "sh", "-c",
                    "nc -l -p 8080; exit 3");
            docker.run("--name", "succeeds", "-p", "127.0.0.1::8080", docker.image(), "sh", "-c",
                    "nc -l -p 8080; exit 0");
            Poll.until(WAIT, () -> "both registered", () -> dockerServices(a).equals(
                    Set.of("reg6:fails:8080", "reg6:succeeds:8080")));
            poke("fails");
            poke("succeeds");
            Poll.until(WAIT, () -> "the clean exit removed, the failure kept", () -> dockerServices(a).equals(
                    Set.of("reg6:fails:8080")));
            docker.exec("rm", "fails");
            Poll.until(WAIT, () -> "removing the failed container removes its service",
                    () -> dockerServices(a).isEmpty());
        }
    }

    /** Connects to the container's published 8080 on 127.0.0.1 and sends a line, so its {@code nc -l} returns. */
    private static void poke(String container) throws Exception {
        String published = docker.output("port", container, "8080").strip().split("\\s+")[0];
        int port = Integer.parseInt(published.substring(published.lastIndexOf(':') + 1));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static HealthStatus dockerHealth(TestAgent a, String serviceId) {
        CatalogService s = service(a, serviceId);
        if (s == null) {
            return null;
        }
        return checks(a, s).stream().filter(c -> c.checkId().endsWith("docker-health")).map(CatalogCheck::status)
                .findFirst().orElse(null);
    }
}
