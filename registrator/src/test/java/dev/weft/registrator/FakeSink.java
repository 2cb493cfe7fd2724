package dev.weft.registrator;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** An in-memory {@link ServiceSink} that records every write, for the reconciler's logic tests. */
final class FakeSink implements ServiceSink {
    /** Docker services by ID, as the agent would hold them. */
    final Map<String, RegisteredService> services = new ConcurrentHashMap<>();
    /** Services that are not the registrator's (no external-source=docker): must never be touched. */
    final Set<String> others = ConcurrentHashMap.newKeySet();
    /** Check ID → "status|output" as last pushed. */
    final Map<String, String> health = new ConcurrentHashMap<>();
    /** Every call that wrote, in order: "register ID", "deregister ID", "health CHECK STATUS". */
    private final List<String> log = new ArrayList<>();
    /** While positive, that many register calls fail (a transient failure). */
    final AtomicInteger failRegisters = new AtomicInteger();
    /** Services refused as invalid, every time. */
    volatile Predicate<String> refuse = id -> false;
    final AtomicInteger refusals = new AtomicInteger();

    /** Puts a docker service as if registered earlier (before a restart, say). */
    void seed(String id, String name, int port) {
        ObjectNode reg = JsonNodeFactory.instance.objectNode();
        reg.put("ID", id);
        reg.put("Name", name);
        reg.put("Port", port);
        services.put(id, new RegisteredService(id, reg, "gone", null));
    }

    @Override
    public void register(RegisteredService s) {
        if (refuse.test(s.id())) {
            refusals.incrementAndGet();
            throw new IllegalArgumentException("Invalid service: refused by the test");
        }
        if (failRegisters.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            throw new IllegalStateException("No cluster leader");
        }
        // Log first: a test that sees the change in services() then finds it in the log too.
        record("register " + s.id());
        services.put(s.id(), s);
    }

    @Override
    public void deregister(String serviceId) {
        if (others.contains(serviceId)) {
            throw new AssertionError("deregistered a service that is not the registrator's: " + serviceId);
        }
        record("deregister " + serviceId);
        services.remove(serviceId);
    }

    @Override
    public Set<String> registeredIds() {
        return Set.copyOf(services.keySet());
    }

    @Override
    public void updateHealth(String checkId, String status, String output) {
        record("health " + checkId + " " + status);
        health.put(checkId, status + "|" + output);
    }

    private synchronized void record(String entry) {
        log.add(entry);
    }

    synchronized List<String> log() {
        return new ArrayList<>(log);
    }

    synchronized long count(String prefix) {
        return log.stream().filter(e -> e.startsWith(prefix)).count();
    }

    Set<String> ids() {
        return new TreeSet<>(services.keySet());
    }
}
