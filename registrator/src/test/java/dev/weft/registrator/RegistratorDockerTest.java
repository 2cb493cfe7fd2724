package dev.weft.registrator;

import dev.weft.kvstore.testing.Poll;
import dev.weft.runtime.DockerClient;
import dev.weft.runtime.testing.DockerDaemon;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The registrator against a real, private dockerd ({@link DockerDaemon}: skips without root and Docker, fails with
 * CI=true). The sink is the recording one: the agent's sink is tested by the agent's end-to-end tests.
 */
class RegistratorDockerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void followsRealContainersAcrossEventsAndADaemonRestart() throws Exception {
        try (DockerDaemon d = DockerDaemon.start();
             DockerClient docker = DockerClient.connect(d.host())) {
            String pre = d.run("--name", "pre", "-p", "8080", "-e", "SERVICE_NAME=pre", "-l", "SERVICE_TAGS=v1",
                    d.image(), "httpd", "-f", "-p", "8080");
            FakeSink sink = new FakeSink();
            RegistratorConfig cfg = RegistratorConfig.builder("n1", "192.0.2.10").forcedIp("127.0.0.1")
                    .retry(Duration.ofMillis(50), Duration.ofSeconds(1)).build();
            try (Registrator registrator = new Registrator(docker, sink, cfg, new SimpleMeterRegistry())) {
                registrator.start();

                // a container that ran before the registrator: found by the first resync
                awaitService(sink, "n1:pre:8080");
                RegisteredService p = sink.services.get("n1:pre:8080");
                assertEquals("pre", p.name());
                assertEquals("127.0.0.1", p.address());
                assertEquals(hostPort(d, "pre"), p.port());
                assertEquals(pre, p.containerId());
                assertEquals("weft-test\n", get("http://127.0.0.1:" + p.port() + "/"), "the registered address serves");

                // a new one with weft.* labels, an HTTP check and a HEALTHCHECK: registered by its start event
                d.run("--name", "web", "-p", "8080", "-l", "weft.service.name=web", "-l", "weft.service.tags=a,b",
                        "-l", "weft.service.check.http=/index.html", "--health-cmd",
                        "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1", "--health-interval", "1s",
                        d.image(), "httpd", "-f", "-p", "8080");
                awaitService(sink, "n1:web:8080");
                RegisteredService w = sink.services.get("n1:web:8080");
                int webPort = hostPort(d, "web");
                assertEquals(webPort, w.port());
                assertEquals("http://127.0.0.1:" + webPort + "/index.html",
                        w.registration().at("/Checks/0/HTTP").asText());
                assertEquals("[\"a\",\"b\"]", w.registration().get("Tags").toString());
                Poll.until(WAIT, () -> "docker health passing, have " + sink.health,
                        () -> sink.health.getOrDefault("service:n1:web:8080:docker-health", "").startsWith("passing|"));

                // docker stop: deregistered by its events
                d.exec("stop", "-t", "1", "web");
                Poll.until(WAIT, () -> "web gone, have " + sink.ids(), () -> !sink.ids().contains("n1:web:8080"));

                // dockerd restarts: "pre" does not come back, "keeper" does (restart policy); the stream reconnects
                d.run("--name", "keeper", "--restart", "always", "-p", "8080", d.image(), "httpd", "-f", "-p",
                        "8080");
                awaitService(sink, "n1:keeper:8080");
                d.restart();
                Poll.until(WAIT, () -> "only keeper after the restart, have " + sink.ids(),
                        () -> sink.ids().equals(Set.of("n1:keeper:8080"))
                                && sink.services.get("n1:keeper:8080").port() == hostPort(d, "keeper"));
            }
        }
    }

    private static void awaitService(FakeSink sink, String id) {
        Poll.until(WAIT, () -> id + " registered, have " + sink.ids(), () -> sink.ids().contains(id));
    }

    /** The host port of the container's 8080/tcp, from {@code docker port}. */
    private static int hostPort(DockerDaemon d, String container) {
        String out = d.output("port", container, "8080/tcp").strip().split("\n")[0];
        return Integer.parseInt(out.substring(out.lastIndexOf(':') + 1).strip());
    }

    private static String get(String url) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return Poll.until(WAIT, () -> "GET " + url, () -> {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        });
    }
}
