package dev.weft.registrator;

import dev.weft.kvstore.testing.Poll;
import dev.weft.runtime.ContainerEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static dev.weft.registrator.TestContainers.container;
import static dev.weft.registrator.TestContainers.idOf;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconciler's logic against in-memory fakes of the runtime and the sink. */
class RegistratorTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final RegistratorConfig CFG = RegistratorConfig.builder("n1", "192.0.2.10")
            .retry(Duration.ofMillis(10), Duration.ofMillis(100)).build();

    private final FakeRuntime runtime = new FakeRuntime();
    private final FakeSink sink = new FakeSink();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Map<String, Integer> exitCodes = new ConcurrentHashMap<>();
    private Registrator registrator;

    @AfterEach
    void close() {
        if (registrator != null) {
            registrator.close();
        }
    }

    private Registrator start(RegistratorConfig cfg) {
        Function<ContainerEvent, OptionalInt> codes = ev -> {
            Integer code = exitCodes.get(ev.containerId());
            return code == null ? OptionalInt.empty() : OptionalInt.of(code);
        };
        registrator = new Registrator(runtime, sink, cfg, meters, codes);
        registrator.start();
        assertTrue(runtime.subscribed());
        return registrator;
    }

    private void drain() throws Exception {
        registrator.drained().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private void awaitIds(String... ids) {
        Set<String> expected = new TreeSet<>(List.of(ids));
        Poll.until(WAIT, () -> "sink services " + expected + ", have " + sink.ids(),
                () -> sink.ids().equals(expected));
    }

    private double counter(String name) {
        return meters.get(name).counter().count();
    }

    private static TestContainers.Builder web(String name, int hostPort) {
        return container(name).publish("80", hostPort);
    }

    @Test
    void initialResyncAddsMissingReplacesChangedAndRemovesGhosts() throws Exception {
        runtime.put(web("a", 8001).build());
        runtime.put(container("b").publish("80", 8002).publish("53/udp", 5302).build());
        runtime.put(web("c", 8003).stopped().build());
        sink.seed("n1:old:80", "old", 9999);                 // a ghost: its container is gone
        sink.seed("n1:a:80", "a", 1);                        // registered before with another port
        sink.others.add("consul-registered");                // not the registrator's: never listed by the sink
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80", "n1:b:53:udp", "n1:b:80");
        assertEquals(8001, sink.services.get("n1:a:80").port());
        assertEquals(1, sink.count("deregister n1:old:80"));
        Poll.until(WAIT, () -> "services gauge", () -> meters.get("weft.registrator.services").gauge().value() == 3);
        assertTrue(counter("weft.registrator.resyncs") >= 1);
    }

    @Test
    void resyncWritesOnlyDifferences() throws Exception {
        runtime.put(web("a", 8001).build());
        runtime.put(web("b", 8002).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80", "n1:b:80");
        drain();
        List<String> before = sink.log();
        runtime.connect();                                    // a reconnect resyncs: nothing changed
        drain();
        assertEquals(before, sink.log());
        runtime.put(web("b", 9002).build());                  // b's port changes without an event
        runtime.connect();
        drain();
        List<String> after = sink.log();
        assertEquals(List.of("register n1:b:80"), after.subList(before.size(), after.size()));
    }

    @Test
    void ghostOfAContainerThatNoLongerRunsIsRemoved() throws Exception {
        runtime.put(web("a", 8001).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        sink.seed("n1:crashed:80", "crashed", 8080);          // e.g. left over from before an agent restart
        runtime.put(web("a", 8001).stopped().build());         // and a stopped while no events came
        runtime.connect();
        awaitIds();
    }

    @Test
    void eventsApplyInOrder() throws Exception {
        start(CFG);
        runtime.connect();
        Poll.until(WAIT, () -> "first resync", () -> counter("weft.registrator.resyncs") >= 1);
        drain();
        for (String n : List.of("a", "b", "c")) {
            runtime.put(web(n, 8000 + n.charAt(0)).build());
        }
        runtime.emit(idOf("a"), "start");
        runtime.emit(idOf("b"), "start");
        runtime.emit(idOf("a"), "stop");
        runtime.emit(idOf("a"), "start");
        runtime.emit(idOf("b"), "die");
        runtime.emit(idOf("c"), "start");
        runtime.emit(idOf("c"), "exec_start: /bin/true");     // HEALTHCHECK probe noise
        drain();
        assertEquals(List.of("register n1:a:80", "register n1:b:80", "deregister n1:a:80", "register n1:a:80",
                "deregister n1:b:80", "register n1:c:80"), sink.log());
        assertEquals(Set.of("n1:a:80", "n1:c:80"), sink.ids());
    }

    @Test
    void pauseDeregistersUnpauseRegisters() throws Exception {
        runtime.put(web("a", 8001).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        runtime.emit(idOf("a"), "pause");
        awaitIds();
        runtime.emit(idOf("a"), "unpause");
        awaitIds("n1:a:80");
    }

    @Test
    void burstOfHundredStartsAndStopsLosesNothing() throws Exception {
        start(CFG);
        runtime.connect();
        Poll.until(WAIT, () -> "first resync", () -> counter("weft.registrator.resyncs") >= 1);
        drain();
        List<String> ids = new ArrayList<>();
        Set<String> services = new TreeSet<>();
        for (int i = 0; i < 100; i++) {
            String name = "burst" + i;
            runtime.put(container(name).publish("80", 20000 + i).build());
            ids.add(idOf(name));
            services.add("n1:" + name + ":80");
        }
        ids.forEach(id -> runtime.emit(id, "start"));
        Poll.until(WAIT, () -> "100 services, have " + sink.ids().size(), () -> sink.ids().equals(services));
        assertEquals(100, sink.count("register "));

        for (String id : ids) {                                // all stop at once
            runtime.put(container(runtime.containers.get(id).name()).publish("80", 1).stopped().build());
        }
        ids.forEach(id -> runtime.emit(id, "die"));
        ids.forEach(id -> runtime.emit(id, "stop"));
        awaitIds();
        assertEquals(100, sink.count("deregister "));
        assertEquals(0.0, meters.get("weft.registrator.services").gauge().value());
    }

    @Test
    void failedWriteIsRetriedByAResync() throws Exception {
        runtime.put(web("a", 8001).build());
        sink.failRegisters.set(3);
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        assertTrue(counter("weft.registrator.errors") >= 3);
        assertTrue(counter("weft.registrator.resyncs") >= 4, "one resync per failure, then the one that worked");
    }

    @Test
    void failedWriteDuringAnEventIsRetried() throws Exception {
        start(CFG);
        runtime.connect();
        Poll.until(WAIT, () -> "first resync", () -> counter("weft.registrator.resyncs") >= 1);
        drain();
        runtime.put(web("a", 8001).build());
        sink.failRegisters.set(1);
        runtime.emit(idOf("a"), "start");
        awaitIds("n1:a:80");
    }

    @Test
    void refusedDefinitionIsNotRetriedUntilItChanges() throws Exception {
        runtime.put(web("a", 8001).build());
        runtime.put(web("b", 8002).build());
        sink.refuse = id -> id.equals("n1:b:80");
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        runtime.connect();
        runtime.connect();
        drain();
        assertEquals(1, sink.refusals.get());
        runtime.put(container("b").env("SERVICE_NAME", "fixed").publish("80", 8002).build());
        sink.refuse = id -> false;
        runtime.emit(idOf("b"), "start");
        awaitIds("n1:a:80", "n1:b:80");
    }

    @Test
    void dockerFailureWhileListingIsRetried() throws Exception {
        runtime.put(web("a", 8001).build());
        runtime.failCalls.set(2);
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        assertTrue(counter("weft.registrator.errors") >= 2);
    }

    @Test
    void removalsWaitWhileAContainerCannotBeInspected() throws Exception {
        runtime.put(web("a", 8001).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        drain();
        runtime.uninspectable.add(idOf("a"));
        sink.seed("n1:ghost:80", "ghost", 1);
        runtime.connect();
        drain();
        assertEquals(Set.of("n1:a:80", "n1:ghost:80"), sink.ids(), "nothing removed on a partial view");
        runtime.uninspectable.clear();                         // the retry after the backoff completes the job
        awaitIds("n1:a:80");
    }

    @Test
    void reconnectRunsAFullResync() throws Exception {
        runtime.put(web("a", 8001).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        runtime.disconnect();
        runtime.put(web("a", 8001).stopped().build());         // events missed while disconnected
        runtime.put(web("b", 8002).build());
        drain();
        assertEquals(Set.of("n1:a:80"), sink.ids(), "nothing changes while disconnected");
        runtime.connect();
        awaitIds("n1:b:80");
    }

    @Test
    void resyncTimerRepairsWithoutEvents() {
        start(CFG.toBuilder().resync(Duration.ofMillis(50)).build());
        runtime.connect();
        runtime.put(web("a", 8001).build());                   // no event
        awaitIds("n1:a:80");
        sink.services.remove("n1:a:80");                       // someone deregistered it through the API
        awaitIds("n1:a:80");
    }

    @Test
    void dockerAbsentNeverFailsStart() throws Exception {
        Registrator r = assertDoesNotThrow(() -> start(CFG));
        drain();
        assertEquals(Set.of(), sink.ids());
        assertEquals(0.0, counter("weft.registrator.resyncs"));
        r.close();
        FakeRuntime broken = new FakeRuntime();
        broken.failSubscribe = true;
        registrator = new Registrator(broken, sink, CFG, new SimpleMeterRegistry());
        assertDoesNotThrow(registrator::start);
    }

    @Test
    void healthStatusIsPushedAndKeptAlive() throws Exception {
        runtime.put(container("h").health("starting", "").publish("80", 8001).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:h:80");
        String check = "service:n1:h:80:docker-health";
        Poll.until(WAIT, () -> "starting pushed", () -> "critical|Docker health: starting".equals(sink.health.get(check)));
        assertEquals("critical", sink.services.get("n1:h:80").registration().at("/Checks/0/Status").asText());

        runtime.put(container("h").health("healthy", "200 OK").publish("80", 8001).build());
        runtime.emit(idOf("h"), "health_status: healthy");
        Poll.until(WAIT, () -> "healthy pushed", () -> "passing|200 OK".equals(sink.health.get(check)));
        drain();
        assertEquals(1, sink.count("register "), "a health change is an update, not a re-registration");

        long pushes = sink.count("health ");
        runtime.connect();                                     // each resync re-pushes: the TTL stays alive
        drain();
        assertEquals(pushes + 1, sink.count("health "));
    }

    @Test
    void alwaysDeregistersAFailedContainer() throws Exception {
        runtime.put(web("a", 8001).build());
        exitCodes.put(idOf("a"), 1);
        start(CFG);
        runtime.connect();
        awaitIds("n1:a:80");
        runtime.put(web("a", 8001).stopped().build());
        runtime.emit(idOf("a"), "die");
        awaitIds();
    }

    @Test
    void onSuccessKeepsFailedContainersOnly() throws Exception {
        RegistratorConfig cfg = CFG.toBuilder().deregister(RegistratorConfig.Deregister.ON_SUCCESS).build();
        runtime.put(container("fails").health("healthy", "ok").publish("80", 8001).build());
        runtime.put(web("done", 8002).build());
        runtime.put(web("killed", 8003).build());
        runtime.put(web("unknown", 8004).build());
        start(cfg);
        runtime.connect();
        awaitIds("n1:fails:80", "n1:done:80", "n1:killed:80", "n1:unknown:80");

        for (String n : List.of("fails", "done", "killed", "unknown")) {
            runtime.put(web(n, 1).stopped().build());
        }
        exitCodes.put(idOf("fails"), 1);
        exitCodes.put(idOf("done"), 0);
        exitCodes.put(idOf("killed"), 137);
        runtime.emit(idOf("fails"), "die");                    // failed by itself: kept
        runtime.emit(idOf("done"), "die");                     // exit 0: removed
        runtime.emit(idOf("killed"), "kill");                  // docker kill: removed although 137
        runtime.emit(idOf("killed"), "die");
        runtime.emit(idOf("unknown"), "die");                  // exit code not reported: removed
        awaitIds("n1:fails:80");
        String check = "service:n1:fails:80:docker-health";
        Poll.until(WAIT, () -> "critical pushed", () -> "critical|container exited with code 1"
                .equals(sink.health.get(check)));

        runtime.connect();                                     // a resync keeps it while the container exists
        drain();
        assertEquals(Set.of("n1:fails:80"), sink.ids());
        assertEquals("critical|container exited with code 1", sink.health.get(check));

        runtime.put(container("fails").health("healthy", "ok").publish("80", 8001).build());
        runtime.emit(idOf("fails"), "start");                  // restarted by its restart policy
        Poll.until(WAIT, () -> "passing again", () -> "passing|ok".equals(sink.health.get(check)));
        assertEquals(Set.of("n1:fails:80"), sink.ids());

        runtime.put(container("fails").health("healthy", "ok").publish("80", 8001).stopped().build());
        runtime.emit(idOf("fails"), "die");
        drain();
        assertEquals(Set.of("n1:fails:80"), sink.ids());
        runtime.remove(idOf("fails"));
        runtime.emit(idOf("fails"), "destroy");                // removed: its services go
        awaitIds();
    }

    @Test
    void onSuccessRetainedServicesGoWhenTheContainerIsRemovedWithoutEvents() throws Exception {
        RegistratorConfig cfg = CFG.toBuilder().deregister(RegistratorConfig.Deregister.ON_SUCCESS).build();
        runtime.put(web("fails", 8001).build());
        start(cfg);
        runtime.connect();
        awaitIds("n1:fails:80");
        runtime.put(web("fails", 8001).stopped().build());
        exitCodes.put(idOf("fails"), 3);
        runtime.emit(idOf("fails"), "die");
        runtime.emit(idOf("fails"), "stop");                   // docker stop after the failure: the user's call
        awaitIds();
        runtime.put(web("fails", 8001).build());
        runtime.emit(idOf("fails"), "start");
        awaitIds("n1:fails:80");
        runtime.put(web("fails", 8001).stopped().build());
        runtime.emit(idOf("fails"), "die");
        drain();
        assertEquals(Set.of("n1:fails:80"), sink.ids());
        runtime.remove(idOf("fails"));                         // removed while the stream was down
        runtime.connect();
        awaitIds();
    }

    @Test
    void renameMovesTheServiceId() throws Exception {
        runtime.put(web("old", 8001).build());
        start(CFG);
        runtime.connect();
        awaitIds("n1:old:80");
        runtime.put(web("new", 8001).id(idOf("old")).build());
        runtime.emit(idOf("old"), "rename");
        awaitIds("n1:new:80");
        assertFalse(sink.log().contains("deregister n1:new:80"));
    }
}
