package dev.weft.runtime;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * A container runtime as the registrator sees it. Implemented by {@link DockerClient} (Docker Engine API, also
 * Podman's Docker-compatible socket).
 */
public interface ContainerRuntime extends AutoCloseable {

    /** {@code GET /_ping}: true when the daemon answers. */
    boolean ping();

    /** {@code GET /version}: server version and the API version this client will use. */
    RuntimeVersion version() throws IOException;

    /** IDs of running containers ({@code GET /containers/json}). */
    List<String> runningContainerIds() throws IOException;

    /** {@code GET /containers/{id}/json}; empty when it does not exist (404). */
    Optional<Container> inspect(String id) throws IOException;

    /**
     * Subscribes to container events and keeps the subscription alive: on stream close or error it reconnects
     * with capped exponential backoff and calls {@link EventListener#onConnected()} again (the caller resyncs
     * then: subscribe first, then list, so nothing is lost between the two). Never gives up until closed.
     */
    Subscription subscribe(EventListener listener);

    /** Callbacks of an event subscription; called from one thread, in order. */
    interface EventListener {
        /** The stream is (re)connected: list now, then apply the events that follow. */
        void onConnected();

        void onEvent(ContainerEvent event);

        /** The stream broke; a reconnect follows after {@code retryInMillis}. */
        void onDisconnected(Throwable cause, long retryInMillis);
    }

    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    /** Server and negotiated API versions. */
    record RuntimeVersion(String serverVersion, String apiVersion, String negotiatedApiVersion, String os) {
    }

    @Override
    void close();
}
