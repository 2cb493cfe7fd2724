package dev.weft.runtime;

import dev.weft.kvstore.testing.Poll;
import dev.weft.runtime.testing.DockerDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code /events} subscription against a real, private dockerd, including a daemon restart. */
@SuppressWarnings("try") // subscriptions are closed by try-with-resources without being referenced
class DockerEventsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static DockerDaemon daemon;
    private static DockerClient client;

    @BeforeAll
    static void startDaemon() {
        daemon = DockerDaemon.start();
        client = DockerClient.connect(daemon.host());
    }

    @AfterAll
    static void stopDaemon() {
        if (client != null) {
            client.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    /** Closing a subscription ends its thread (close joins it). */
    @AfterEach
    void noEventThreadOutlivesItsSubscription() {
        List<String> alive = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive)
                .map(Thread::getName).filter(n -> n.startsWith("docker-events-")).toList();
        assertEquals(List.of(), alive);
    }

    /** Everything a listener is told, as one ordered log: "connected", "disconnected <ms>", "ID action". */
    static final class Recorder implements ContainerRuntime.EventListener {
        final List<String> log = new CopyOnWriteArrayList<>();
        final List<ContainerEvent> events = new CopyOnWriteArrayList<>();
        final List<Long> retries = new CopyOnWriteArrayList<>();
        volatile Consumer<Recorder> whenConnected = r -> { };

        @Override
        public void onConnected() {
            log.add("connected");
            whenConnected.accept(this);
        }

        @Override
        public void onEvent(ContainerEvent event) {
            events.add(event);
            log.add(event.containerId() + " " + event.action());
        }

        @Override
        public void onDisconnected(Throwable cause, long retryInMillis) {
            retries.add(retryInMillis);
            log.add("disconnected " + retryInMillis);
        }

        long connects() {
            return log.stream().filter("connected"::equals).count();
        }

        List<String> actions(String id) {
            return events.stream().filter(e -> e.containerId().equals(id)).map(ContainerEvent::action).toList();
        }

        boolean saw(String id, String action) {
            return actions(id).contains(action);
        }
    }

    @Test
    void startDieDestroyArriveInOrder() {
        Recorder r = new Recorder();
        try (ContainerRuntime.Subscription ignored = client.subscribe(r)) {
            Poll.until(WAIT, () -> "the subscription to connect", () -> r.connects() == 1);
            String name = "once-" + Long.toHexString(System.nanoTime());
            String id = daemon.run("--name", name, daemon.image(), "true");
            Poll.until(WAIT, () -> "die of " + id + "; seen " + r.actions(id), () -> r.saw(id, "die"));
            daemon.exec("rm", id);
            Poll.until(WAIT, () -> "destroy of " + id + "; seen " + r.actions(id), () -> r.saw(id, "destroy"));

            List<String> actions = r.actions(id);
            List<String> expected = List.of("create", "start", "die", "destroy");
            List<String> seen = actions.stream().filter(expected::contains).distinct().toList();
            assertEquals(expected, seen, actions.toString());
            assertEquals(actions.indexOf("destroy"), actions.size() - 1, actions.toString());
            List<ContainerEvent> mine = r.events.stream().filter(e -> e.containerId().equals(id)).toList();
            for (int i = 0; i < mine.size(); i++) {
                assertEquals(name, mine.get(i).name());
                assertTrue(i == 0 || mine.get(i - 1).timeNanos() <= mine.get(i).timeNanos(), mine.toString());
            }
        }
    }

    @Test
    void onConnectedComesFirstAndWhatStartsWhileListingIsNotLost() {
        Recorder r = new Recorder();
        List<String> startedDuringListing = new CopyOnWriteArrayList<>();
        r.whenConnected = rec -> {
            try {
                rec.log.add("listed " + client.runningContainerIds().size());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            startedDuringListing.add(daemon.run(daemon.image(), "sleep", "600"));
        };
        try (ContainerRuntime.Subscription ignored = client.subscribe(r)) {
            Poll.until(WAIT, () -> "the start event of the container started in onConnected; log " + r.log,
                    () -> !startedDuringListing.isEmpty() && r.saw(startedDuringListing.get(0), "start"));
            assertEquals("connected", r.log.get(0), r.log.toString());
            assertTrue(r.log.get(1).startsWith("listed "), r.log.toString());
        }
        daemon.exec("rm", "-f", startedDuringListing.get(0));
    }

    @Test
    void aDaemonRestartDisconnectsThenTheStreamResumes() {
        Recorder r = new Recorder();
        try (ContainerRuntime.Subscription ignored = client.subscribe(r)) {
            Poll.until(WAIT, () -> "the subscription to connect", () -> r.connects() == 1);
            daemon.restart();
            Poll.until(WAIT, () -> "a disconnect and a second connect; log " + r.log,
                    () -> !r.retries.isEmpty() && r.connects() >= 2);
            assertEquals(DockerClient.FIRST_RETRY_MILLIS, r.retries.get(0));
            int connected = r.log.lastIndexOf("connected");
            assertTrue(r.log.subList(0, connected).stream().anyMatch(l -> l.startsWith("disconnected ")),
                    r.log.toString());

            String id = daemon.run(daemon.image(), "sleep", "600");
            Poll.until(WAIT, () -> "start of " + id + " after the restart; log " + r.log, () -> r.saw(id, "start"));
            assertTrue(r.log.indexOf(id + " start") > connected, r.log.toString());
            daemon.exec("rm", "-f", id);
        }
    }

    @Test
    void healthChecksShowInInspectAndInEvents() throws IOException {
        Recorder r = new Recorder();
        try (ContainerRuntime.Subscription ignored = client.subscribe(r)) {
            Poll.until(WAIT, () -> "the subscription to connect", () -> r.connects() == 1);
            String plain = daemon.run("--health-cmd", "true", "--health-interval", "1s",
                    daemon.image(), "httpd", "-f", "-p", "8080");
            String talking = daemon.run("--health-cmd", "echo ready", "--health-interval", "1s",
                    daemon.image(), "sleep", "600");
            Poll.until(WAIT, () -> "health of " + plain + " to be healthy",
                    () -> "healthy".equals(client.inspect(plain).orElseThrow().health()));
            Poll.until(WAIT, () -> "a health_status: healthy event of " + plain + "; seen " + r.actions(plain),
                    () -> r.saw(plain, "health_status: healthy"));
            Container c = Poll.until(WAIT, () -> "health output of " + talking, () -> {
                Container t = client.inspect(talking).orElseThrow();
                return "healthy".equals(t.health()) ? t : null;
            });
            assertEquals("ready", c.healthOutput().strip());
            daemon.exec("rm", "-f", plain, talking);
        }
    }

    @Test
    void withoutADaemonItRetriesWithDoublingBackoffAndNeverConnects() {
        Recorder r = new Recorder();
        try (DockerClient nowhere = DockerClient.connect("unix:///tmp/weft-no-such-dir/docker.sock")) {
            ContainerRuntime.Subscription s = nowhere.subscribe(r);
            Poll.until(WAIT, () -> "four retries; seen " + r.retries, () -> r.retries.size() >= 4);
            s.close();
            assertEquals(List.of(100L, 200L, 400L, 800L), new ArrayList<>(r.retries.subList(0, 4)));
            assertEquals(0, r.connects());
        }
    }
}
