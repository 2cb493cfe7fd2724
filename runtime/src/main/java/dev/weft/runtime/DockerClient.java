package dev.weft.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Docker Engine API over HTTP/1.1 on a unix socket ({@code unix:///var/run/docker.sock}) or plain TCP
 * ({@code tcp://host:port}); also Podman's Docker-compatible socket. Each request opens a fresh connection with
 * a deadline ({@link #requestTimeout()}); each event subscription holds its own connection on its own daemon
 * thread. The API version is negotiated from {@code /version} on first use (and again on every event-stream
 * reconnect): the server's version capped at {@link #MAX_API_VERSION}, never below the server's minimum.
 * Failures are {@link IOException}s carrying Docker's own {@code message}.
 */
public final class DockerClient implements ContainerRuntime {
    private static final Logger log = LoggerFactory.getLogger(DockerClient.class);

    /** The newest Engine API version this client knows. */
    public static final String MAX_API_VERSION = "1.43";
    /** Default deadline of one request (connect, send, whole answer). */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** Event-stream reconnect backoff: first delay, doubling up to the cap. */
    static final long FIRST_RETRY_MILLIS = 100;
    static final long MAX_RETRY_MILLIS = 5_000;
    /** A stream that stayed up this long resets the backoff to {@link #FIRST_RETRY_MILLIS}. */
    static final Duration HEALTHY_STREAM = Duration.ofSeconds(1);
    /** Events are asked for from this long before the connection (see {@link #subscribe}). */
    static final Duration REPLAY_MARGIN = Duration.ofSeconds(1);
    private static final int MAX_EVENT_BYTES = EngineLimits.MAX_EVENT_BYTES;
    private static final String CONTAINER_EVENTS_FILTER = "{\"type\":[\"container\"]}";
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final DockerHost host;
    private final Duration requestTimeout;
    private final ObjectMapper json = new ObjectMapper();
    private final Set<EventSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    private volatile String apiPrefix;

    private DockerClient(DockerHost host, Duration requestTimeout) {
        this.host = host;
        this.requestTimeout = requestTimeout;
    }

    /**
     * A client for {@code dockerHost} ({@code unix:///path} or {@code tcp://host:port}); null or blank means
     * {@code $DOCKER_HOST}, else {@code unix:///var/run/docker.sock}. Does no I/O: the daemon may come later.
     *
     * @throws IllegalArgumentException for a malformed or unsupported address (TLS, ssh://, npipe://)
     */
    public static DockerClient connect(String dockerHost) {
        return connect(dockerHost, DEFAULT_REQUEST_TIMEOUT);
    }

    /** As {@link #connect(String)}, with a deadline for each request. */
    public static DockerClient connect(String dockerHost, Duration requestTimeout) {
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("request timeout must be positive: " + requestTimeout);
        }
        return new DockerClient(DockerHost.resolve(dockerHost, System.getenv()), requestTimeout);
    }

    /** The address in use, normalised ({@code unix:///…} or {@code tcp://host:port}). */
    public String host() {
        return host.uri();
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    @Override
    public boolean ping() {
        try {
            return EngineHttpClient.exchange(host, "GET", "/_ping", requestTimeout).head().status() == 200;
        } catch (IOException e) {
            log.debug("ping {}: {}", host, e.toString());
            return false;
        }
    }

    /** {@code GET /version} (unversioned), and (re)negotiates the API version used from now on. */
    @Override
    public RuntimeVersion version() throws IOException {
        JsonNode v = get("/version", false).orElseThrow();
        String server = EngineJson.text(v, "ApiVersion");
        String min = EngineJson.text(v, "MinAPIVersion");
        ApiVersion negotiated;
        try {
            negotiated = ApiVersion.negotiate(ApiVersion.parse(server), min.isEmpty() ? null : ApiVersion.parse(min),
                    ApiVersion.parse(MAX_API_VERSION));
        } catch (IllegalArgumentException e) {
            throw new IOException("GET /version on " + host + ": " + e.getMessage(), e);
        }
        apiPrefix = "/v" + negotiated;
        return new RuntimeVersion(EngineJson.text(v, "Version"), server, negotiated.toString(),
                EngineJson.text(v, "Os"));
    }

    @Override
    public List<String> runningContainerIds() throws IOException {
        JsonNode list = get(api("/containers/json"), false).orElseThrow();
        List<String> ids = new ArrayList<>();
        for (JsonNode c : list) {
            ids.add(EngineJson.text(c, "Id"));
        }
        return ids;
    }

    @Override
    public Optional<Container> inspect(String id) throws IOException {
        return get(api("/containers/" + segment(id) + "/json"), true).map(EngineJson::container);
    }

    /** {@code GET /networks/{idOrName}}; empty when it does not exist (404). */
    public Optional<Network> inspectNetwork(String idOrName) throws IOException {
        return get(api("/networks/" + segment(idOrName)), true).map(EngineJson::network);
    }

    /**
     * Starts a daemon thread that follows {@code GET /events} (container events only) until the subscription or
     * this client is closed. {@link EventListener#onConnected()} runs once the answer's head has arrived, on
     * that thread, before any event of that connection; list then. On EOF or error,
     * {@link EventListener#onDisconnected} is called and the thread reconnects after 100 ms, doubling to 5 s
     * (back to 100 ms after a stream that stayed up for a second). Docker sends the answer's head before it
     * registers the subscriber, so each connection asks for the events of the last second too ({@code since}):
     * a replayed event may already be reflected in the listing; handlers must be idempotent. An exception from
     * {@code onConnected} counts as a disconnect (so the listing is retried); one from {@code onEvent} is logged.
     */
    @Override
    public Subscription subscribe(EventListener listener) {
        EventSubscription s = new EventSubscription(Objects.requireNonNull(listener));
        subscriptions.add(s);
        s.thread.start();
        return s;
    }

    /** Closes every subscription of this client (requests hold no connection between calls). */
    @Override
    public void close() {
        for (EventSubscription s : List.copyOf(subscriptions)) {
            s.close();
        }
    }

    private String api(String path) throws IOException {
        String prefix = apiPrefix;
        if (prefix == null) {
            version();
            prefix = apiPrefix;
        }
        return prefix + path;
    }

    /** GET {@code target} as JSON; package-private for tests of error answers. */
    Optional<JsonNode> get(String target, boolean emptyOn404) throws IOException {
        EngineHttpClient.Response r = EngineHttpClient.exchange(host, "GET", target, requestTimeout);
        int status = r.head().status();
        if (status == 404 && emptyOn404) {
            return Optional.empty();
        }
        if (status / 100 != 2) {
            throw failure("GET", target, status, r.text());
        }
        try {
            return Optional.of(json.readTree(r.body()));
        } catch (IOException e) {
            throw new IOException("GET " + target + " on " + host + ": answer is not JSON: " + e.getMessage(), e);
        }
    }

    private IOException failure(String method, String target, int status, String body) {
        return new IOException("docker " + method + " " + target + " on " + host + ": HTTP " + status + ": "
                + EngineJson.errorMessage(body, json));
    }

    private static String segment(String s) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("empty container or network ID");
        }
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private final class EventSubscription implements Subscription, Runnable {
        private final EventListener listener;
        private final Thread thread;
        private final CountDownLatch closed = new CountDownLatch(1);
        private volatile EngineHttpClient stream;

        EventSubscription(EventListener listener) {
            this.listener = listener;
            this.thread = new Thread(this, "docker-events-" + THREADS.incrementAndGet());
            this.thread.setDaemon(true);
        }

        private boolean isClosed() {
            return closed.getCount() == 0;
        }

        @Override
        public void run() {
            ReconnectBackoff backoff = new ReconnectBackoff(FIRST_RETRY_MILLIS, MAX_RETRY_MILLIS);
            while (!isClosed()) {
                long connectedAt = 0;
                Exception cause;
                try {
                    String api = version().negotiatedApiVersion();
                    long since = System.currentTimeMillis() - REPLAY_MARGIN.toMillis();
                    String target = "/v" + api + "/events?since=" + String.format(Locale.ROOT, "%d.%09d",
                            since / 1000, (since % 1000) * 1_000_000) + "&filters="
                            + URLEncoder.encode(CONTAINER_EVENTS_FILTER, StandardCharsets.UTF_8);
                    long deadline = System.nanoTime() + requestTimeout.toNanos();
                    try (EngineHttpClient c = EngineHttpClient.open(host, deadline)) {
                        stream = c;
                        if (isClosed()) {
                            break;
                        }
                        c.send("GET", target, deadline);
                        HttpHead head = c.readHead(deadline);
                        if (head.status() != 200) {
                            ByteArrayOutputStream body = new ByteArrayOutputStream();
                            c.readBody(head, deadline, body::write);
                            throw failure("GET", target, head.status(), body.toString(StandardCharsets.UTF_8));
                        }
                        connectedAt = System.nanoTime();
                        log.info("docker events: connected to {} (API {})", host, api);
                        listener.onConnected();
                        JsonObjectSplitter splitter = new JsonObjectSplitter(MAX_EVENT_BYTES);
                        c.readBody(head, EngineHttpClient.NO_DEADLINE,
                                (b, off, len) -> splitter.feed(b, off, len, this::deliver));
                        cause = new EOFException("event stream ended");
                    }
                } catch (Exception e) {
                    cause = e;
                } finally {
                    stream = null;
                }
                if (isClosed()) {
                    break;
                }
                if (connectedAt != 0 && System.nanoTime() - connectedAt >= HEALTHY_STREAM.toNanos()) {
                    backoff.reset();
                }
                long retry = backoff.next();
                log.warn("docker events: disconnected from {} ({}); reconnecting in {} ms", host, describe(cause),
                        retry);
                try {
                    listener.onDisconnected(cause, retry);
                } catch (RuntimeException e) {
                    log.warn("docker events: onDisconnected failed", e);
                }
                try {
                    if (closed.await(retry, TimeUnit.MILLISECONDS)) {
                        break;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            log.info("docker events: subscription to {} closed", host);
        }

        private void deliver(byte[] object) {
            if (isClosed()) {
                return;
            }
            Optional<ContainerEvent> event;
            try {
                event = EngineJson.event(json.readTree(object));
            } catch (IOException e) {
                log.warn("docker events: skipping an event that is not JSON: {}", e.getMessage());
                return;
            }
            if (event.isEmpty()) {
                return;
            }
            log.debug("docker events: {}", event.get());
            try {
                listener.onEvent(event.get());
            } catch (RuntimeException e) {
                log.warn("docker events: listener failed on {}", event.get(), e);
            }
        }

        @Override
        public void close() {
            if (isClosed()) {
                return;
            }
            closed.countDown();
            EngineHttpClient s = stream;
            if (s != null) {
                s.close();
            }
            subscriptions.remove(this);
            if (Thread.currentThread() != thread) {
                try {
                    thread.join(requestTimeout.toMillis() + 1_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
