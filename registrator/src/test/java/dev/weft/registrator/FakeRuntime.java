package dev.weft.registrator;

import dev.weft.runtime.Container;
import dev.weft.runtime.ContainerEvent;
import dev.weft.runtime.ContainerRuntime;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory {@link ContainerRuntime} for the reconciler's logic tests: the test decides the containers, when the
 * event stream connects, and which events it delivers (from the test thread, in order, as the real one does from its
 * reader thread).
 */
final class FakeRuntime implements ContainerRuntime {
    /** Containers by ID; those with {@code running()} are listed. */
    final Map<String, Container> containers = new ConcurrentHashMap<>();
    /** While positive, that many list/inspect calls fail with an IOException. */
    final AtomicInteger failCalls = new AtomicInteger();
    /** Containers whose inspect fails with an IOException. */
    final Set<String> uninspectable = ConcurrentHashMap.newKeySet();
    /** subscribe() throws, as a runtime without a usable endpoint might. */
    volatile boolean failSubscribe;
    private volatile EventListener listener;

    void put(Container c) {
        containers.put(c.id(), c);
    }

    void remove(String id) {
        containers.remove(id);
    }

    /** The stream (re)connects: the registrator resyncs. */
    void connect() {
        listener().onConnected();
    }

    void disconnect() {
        listener().onDisconnected(new IOException("stream closed"), 10);
    }

    void emit(String containerId, String action) {
        Container c = containers.get(containerId);
        listener().onEvent(new ContainerEvent(containerId, action, c == null ? "" : c.name(), System.nanoTime()));
    }

    boolean subscribed() {
        return listener != null;
    }

    private EventListener listener() {
        EventListener l = listener;
        if (l == null) {
            throw new IllegalStateException("not subscribed");
        }
        return l;
    }

    private void maybeFail() throws IOException {
        if (failCalls.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            throw new IOException("docker is away");
        }
    }

    @Override
    public boolean ping() {
        return true;
    }

    @Override
    public RuntimeVersion version() {
        return new RuntimeVersion("fake", "1.43", "1.43", "linux");
    }

    @Override
    public List<String> runningContainerIds() throws IOException {
        maybeFail();
        List<String> out = new ArrayList<>();
        containers.forEach((id, c) -> {
            if (c.running()) {
                out.add(id);
            }
        });
        return out;
    }

    @Override
    public Optional<Container> inspect(String id) throws IOException {
        maybeFail();
        if (uninspectable.contains(id)) {
            throw new IOException("inspect " + id + ": timeout");
        }
        return Optional.ofNullable(containers.get(id));
    }

    @Override
    public Subscription subscribe(EventListener l) {
        if (failSubscribe) {
            throw new IllegalStateException("no socket");
        }
        this.listener = l;
        return () -> this.listener = null;
    }

    @Override
    public void close() {
    }
}
