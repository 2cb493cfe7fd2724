package dev.weft.kvstore.feed;

import dev.weft.kvstore.AppliedWaiters;
import dev.weft.kvstore.NoLeaderException;
import dev.weft.kvstore.PermissionDeniedException;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.codec.CommandCodec;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.StateCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * The store of a client agent: no vote, no Raft log. It keeps a <b>local read view</b> (a {@link KvState},
 * the same deterministic state machine the servers run) fed by one long-polling stream of committed commands
 * from a server ({@link FeedProtocol#FEED}), and forwards everything else to the servers:
 *
 * <ul>
 *   <li>{@link #submit}: the encoded command to a server, which proposes it through Raft and answers its result
 *       and log index; the call completes once the local view has applied that index (read-your-writes), or
 *       after the request timeout with the result anyway (the write did commit).</li>
 *   <li>{@link #readBarrier}: a ReadIndex on a server gives an index; the barrier completes when the local view
 *       reaches it, so default and {@code ?consistent} reads are linearizable as on a server.</li>
 *   <li>{@link #read}: the local view, no network: {@code ?stale} reads, DNS, blocking queries. It keeps
 *       answering while every server is unreachable.</li>
 * </ul>
 *
 * <p>The view only moves forward: entries at or below its index are skipped, and a snapshot from a server that
 * is behind it is refused (the client tries another server), so it never serves an index lower than one it
 * already served. A client that falls further behind than a server's {@link ChangeFeed} holds gets the whole
 * state as a snapshot. Each feed answer also carries the Raft server set with their HTTP addresses, so clients
 * learn servers that join and forget removed ones without a restart; the configured seeds stay as a fallback.
 *
 * <p>Requests that were never delivered (connection refused, connect timeout) are retried on the next server;
 * any other failure of a write is reported, since the write may have committed.
 */
public final class ClientStore implements ReplicatedStore {
    private static final Logger LOG = LoggerFactory.getLogger(ClientStore.class);
    /** A server that has not heard from a leader for this long is not used for the feed. */
    static final long STALE_SERVER_MILLIS = 5_000;
    private static final long MAX_BACKOFF_MILLIS = 2_000;

    /**
     * @param nodeName       this agent's node name (its ID in {@link #status()})
     * @param seeds          HTTP addresses (host:port) of servers to start from
     * @param requestTimeout how long a forwarded request may take
     * @param feedWait       how long a feed request waits for new entries (also the heartbeat of the stream)
     * @param tls            null: plain HTTP; else HTTPS with this context (this agent's certificate, servers'
     *                       certificates checked) to every server, and the seeds are servers' HTTPS addresses
     */
    public record Settings(String nodeName, List<String> seeds, Duration requestTimeout, Duration feedWait,
                           javax.net.ssl.SSLContext tls) {
        public Settings(String nodeName, List<String> seeds, Duration requestTimeout, Duration feedWait) {
            this(nodeName, seeds, requestTimeout, feedWait, null);
        }

        public Settings {
            Objects.requireNonNull(nodeName, "nodeName");
            seeds = List.copyOf(seeds);
            if (seeds.isEmpty()) {
                throw new IllegalArgumentException("a client agent needs the HTTP address of at least one server");
            }
            if (feedWait.toMillis() < 1 || feedWait.toMillis() > FeedProtocol.MAX_WAIT_MILLIS) {
                throw new IllegalArgumentException("feed wait must be between 1 ms and "
                        + FeedProtocol.MAX_WAIT_MILLIS + " ms");
            }
        }
    }

    private final Settings settings;
    private volatile String agentToken = "";
    /** Keep-alive connections to the servers (HTTPS with {@link Settings#tls()}). */
    private final ServerConnections http;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Watches watches = new Watches();
    private final AppliedWaiters waiters = new AppliedWaiters(() -> this.index);
    private final Thread feedThread;
    private final CountDownLatch closedLatch = new CountDownLatch(1);
    private final AtomicInteger cursor = new AtomicInteger();
    private final Counter entriesApplied;
    private final Counter snapshotsInstalled;
    private final Counter feedErrors;

    /** Replaced under the write lock by a snapshot; mutated only by the feed thread under the write lock. */
    private volatile KvState state = new KvState();
    private volatile long index;
    private volatile long catalogIndex;
    private volatile boolean closed;
    private volatile boolean forceSnapshot;
    /** What the last feed answer said. */
    private volatile List<FeedProtocol.Server> servers = List.of();
    private volatile String feedServer;
    private volatile long lastFeedNanos = Long.MIN_VALUE;
    private volatile long serverLastContact = -1;
    private volatile boolean serverKnowsLeader;
    private volatile String leaderId = "";
    private volatile String leaderAddress = "";
    private volatile long term;
    /** Serializes appliers: the feed thread and catch-up fetches ({@link #catchUp}). */
    private final Object applying = new Object();
    /** The highest index a catch-up fetch is already asking for. */
    private final java.util.concurrent.atomic.AtomicLong catchingUpTo = new java.util.concurrent.atomic.AtomicLong();

    private ClientStore(Settings settings, MeterRegistry registry) {
        this.settings = settings;
        this.http = new ServerConnections(settings.tls(), Duration.ofSeconds(2));
        this.entriesApplied = Counter.builder("weft.client.feed.entries")
                .description("Committed entries applied to this client agent's read view").register(registry);
        this.snapshotsInstalled = Counter.builder("weft.client.feed.snapshots")
                .description("Full-state snapshots installed into this client agent's read view").register(registry);
        this.feedErrors = Counter.builder("weft.client.feed.errors")
                .description("Failed feed requests (the client moves to another server)").register(registry);
        Gauge.builder("weft.raft.applied.index", this, s -> s.index)
                .description("Highest index applied to the local read view").register(registry);
        Gauge.builder("weft.client.servers.known", this, s -> s.servers.size())
                .description("Raft servers this client knows").register(registry);
        Gauge.builder("weft.client.last.contact", this, s -> s.status().lastContactMillis())
                .description("Milliseconds since the read view last heard from the leader through a server")
                .baseUnit("milliseconds").register(registry);
        Gauge.builder("weft.kv.keys", this, s -> s.read(KvReadView::kvCount)).register(registry);
        Gauge.builder("weft.catalog.services", this, s -> s.read(v -> v.catalog().serviceCount()))
                .register(registry);
        this.feedThread = new Thread(this::runFeed, "weft-client-feed");
        this.feedThread.setDaemon(true);
    }

    /** Starts the feed; it does not wait for the servers (the view fills in once one answers). */
    public static ClientStore start(Settings settings, MeterRegistry registry) {
        return start(settings, registry, "");
    }

    /** As {@link #start(Settings, MeterRegistry)}, with the token its own requests carry ({@link #agentToken}). */
    public static ClientStore start(Settings settings, MeterRegistry registry, String agentToken) {
        ClientStore s = new ClientStore(settings, registry);
        s.agentToken(agentToken);
        s.feedThread.start();
        LOG.info("client agent {}: following the servers' feed, seeds {}", settings.nodeName(), settings.seeds());
        return s;
    }

    // ---- the feed ----------------------------------------------------------------------------------------

    private void runFeed() {
        int failures = 0;
        String server = null;
        boolean wasOk = true;
        while (!closed) {
            List<String> candidates = candidates();
            if (server == null || !candidates.contains(server)) {
                server = candidates.get(Math.floorMod(cursor.getAndIncrement(), candidates.size()));
            }
            String problem;
            try {
                problem = pollOnce(server);
            } catch (IOException | RuntimeException e) {
                problem = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (problem == null) {
                if (!wasOk) {
                    LOG.info("client feed: following {} at index {}", server, index);
                }
                wasOk = true;
                failures = 0;
                continue;
            }
            if (closed) {
                return;
            }
            feedErrors.increment();
            if (wasOk || failures % 20 == 0) {
                LOG.warn("client feed: server {} unusable ({}); trying another", server, problem);
            }
            wasOk = false;
            failures++;
            String previous = server;
            List<String> next = candidates();
            server = next.get(Math.floorMod(cursor.getAndIncrement(), next.size()));
            if (server.equals(previous) && next.size() > 1) {
                server = next.get(Math.floorMod(cursor.getAndIncrement(), next.size()));
            }
            long backoff = Math.min(MAX_BACKOFF_MILLIS, 25L << Math.min(failures, 7));
            try {
                if (closedLatch.await(backoff, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One feed request; null when the server is fine to keep following, else why it is not. */
    private String pollOnce(String server) throws IOException, InterruptedException {
        long from = index;
        long wait = settings.feedWait().toMillis();
        String path = FeedProtocol.FEED + "?index=" + from + "&wait=" + wait + "ms"
                + (forceSnapshot ? "&snapshot" : "");
        feedServer = server;
        ServerConnections.Response r = http.exchange(server, "GET", path, null, agentToken,
                Duration.ofMillis(wait + 5_000));
        if (r.status() != 200) {
            return "HTTP " + r.status() + ": " + text(r.body());
        }
        lastFeedNanos = System.nanoTime();
        boolean known = Boolean.parseBoolean(r.header("X-Consul-KnownLeader", "false"));
        long contact = parseLong(r.header("X-Consul-LastContact", "-1"), -1);
        serverKnowsLeader = known;
        serverLastContact = contact;
        String[] leader = r.header(FeedProtocol.H_LEADER, "").split(" ", 2);
        leaderId = leader[0];
        leaderAddress = leader.length > 1 ? leader[1] : "";
        term = parseLong(r.header(FeedProtocol.H_TERM, "0"), 0);
        List<FeedProtocol.Server> learned = FeedProtocol.decodeServers(r.header(FeedProtocol.H_SERVERS, ""));
        if (!learned.isEmpty() && !learned.equals(servers)) {
            LOG.info("client feed: servers are now {}", learned.stream()
                    .map(s -> s.id() + "@" + (s.httpAddress().isEmpty() ? "?" : s.httpAddress())).toList());
            servers = List.copyOf(learned);
        }
        String kind = r.header(FeedProtocol.H_KIND, "");
        if (kind.equals(FeedProtocol.KIND_SNAPSHOT)) {
            KvState loaded = StateCodec.read(new ByteArrayInputStream(r.body()));
            if (loaded.lastIndex() < index) {
                return "its snapshot is at index " + loaded.lastIndex() + ", behind this view's " + index;
            }
            install(loaded, server);
            forceSnapshot = false;
        } else if (kind.equals(FeedProtocol.KIND_ENTRIES)) {
            if (!applyEntries(FeedProtocol.decodeEntries(r.body()))) {
                return "an entry could not be applied; resyncing from a snapshot";
            }
        } else {
            return "unknown feed answer '" + kind + "'";
        }
        if (!known) {
            return "it knows no leader";
        }
        if (contact > STALE_SERVER_MILLIS) {
            return "it last heard from the leader " + contact + " ms ago";
        }
        return null;
    }

    private boolean applyEntries(List<ChangeFeed.Entry> entries) {
        synchronized (applying) {
            return applyEntriesLocked(entries);
        }
    }

    private boolean applyEntriesLocked(List<ChangeFeed.Entry> entries) {
        for (ChangeFeed.Entry e : entries) {
            if (e.index() <= index) {
                continue;
            }
            Applied applied;
            lock.writeLock().lock();
            try {
                applied = state.apply(e.index(), CommandCodec.decode(e.data()));
                index = state.lastIndex();
                if (!applied.catalogTopics().isEmpty()) {
                    catalogIndex = state.catalog().catalogIndex();
                }
            } catch (RuntimeException ex) {
                LOG.error("client feed: cannot apply entry {}; resyncing from a snapshot", e.index(), ex);
                forceSnapshot = true;
                return false;
            } finally {
                lock.writeLock().unlock();
            }
            entriesApplied.increment();
            fire(applied);
        }
        completeWaiters();
        return true;
    }

    private void install(KvState loaded, String server) {
        synchronized (applying) {
            installLocked(loaded, server);
        }
    }

    private void installLocked(KvState loaded, String server) {
        KvState previous;
        lock.writeLock().lock();
        try {
            previous = state;
            state = loaded;
            index = loaded.lastIndex();
            catalogIndex = loaded.catalog().catalogIndex();
        } finally {
            lock.writeLock().unlock();
        }
        snapshotsInstalled.increment();
        LOG.info("client feed: installed a snapshot at index {} from {}", loaded.lastIndex(), server);
        fireAll(previous, loaded.lastIndex());
        completeWaiters();
    }

    /** After the whole state was replaced, wake every watch on a key or topic that exists before or after. */
    private void fireAll(KvState previous, long at) {
        fire(read(now -> Watches.everythingChanged(previous, now, at)));
    }

    private void fire(Applied applied) {
        try {
            watches.fire(applied);
        } catch (RuntimeException e) {
            LOG.warn("client feed: a watch callback failed at index {}", applied.index(), e);
        }
    }

    /** Learned servers' HTTP addresses first, then the seeds; never empty. */
    private List<String> candidates() {
        Set<String> out = new LinkedHashSet<>();
        for (FeedProtocol.Server s : servers) {
            if (!s.httpAddress().isEmpty()) {
                out.add(s.httpAddress());
            }
        }
        out.addAll(settings.seeds());
        return new ArrayList<>(out);
    }

    // ---- waiting for the view ----------------------------------------------------------------------------

    /** Completes once the view has applied {@code target}. */
    CompletableFuture<Void> awaitApplied(long target) {
        return waiters.await(target);
    }

    /**
     * Waits until the view reaches {@code target} (a write's index, or a ReadIndex), fetching the entries up to it
     * at once when the view is behind: heartbeat-only entries do not wake the long-polling feed, so a target that
     * is one of them would otherwise wait for the feed's next answer (up to its wait, 2 s).
     */
    private CompletableFuture<Void> awaitIndex(long target) {
        CompletableFuture<Void> f = awaitApplied(target);
        if (!f.isDone()) {
            catchUp(target);
        }
        return f;
    }

    /** One feed request that answers once the server has {@code target}, quiet entries included. */
    private void catchUp(long target) {
        long asked;
        do {
            asked = catchingUpTo.get();
            if (asked >= target) {
                return; // a fetch in flight already covers it
            }
        } while (!catchingUpTo.compareAndSet(asked, target));
        String server = feedServer;
        if (server == null || closed) {
            return;
        }
        String path = FeedProtocol.FEED + "?index=" + index + "&" + FeedProtocol.THROUGH + "="
                + target + "&wait=" + settings.requestTimeout().toMillis() + "ms";
        http.sendAsync(server, "GET", path, null, agentToken, settings.requestTimeout().plusSeconds(2))
                .whenComplete((r, t) -> {
            if (t != null || r.status() != 200
                    || !r.header(FeedProtocol.H_KIND, "").equals(FeedProtocol.KIND_ENTRIES)) {
                return; // the feed thread gets there anyway
            }
            try {
                applyEntries(FeedProtocol.decodeEntries(r.body()));
            } catch (RuntimeException e) {
                LOG.debug("client feed: catch-up fetch from {} failed: {}", server, e.toString());
            }
        });
    }

    private void completeWaiters() {
        waiters.complete();
    }

    // ---- forwarding --------------------------------------------------------------------------------------

    private record Answer(String server, ServerConnections.Response response) {
    }

    /**
     * Sends a request to a server, moving to the next one only when it was never delivered (refused or connect
     * timeout), at most once per known server.
     */
    private CompletableFuture<Answer> forward(String method, String pathAndQuery, byte[] body, Duration timeout) {
        return forward(method, pathAndQuery, body, timeout, agentToken);
    }

    private CompletableFuture<Answer> forward(String method, String pathAndQuery, byte[] body, Duration timeout,
                                              String token) {
        List<String> candidates = candidates();
        String first = feedServer;
        int start = first != null && candidates.contains(first) ? candidates.indexOf(first)
                : Math.floorMod(cursor.getAndIncrement(), candidates.size());
        CompletableFuture<Answer> result = new CompletableFuture<>();
        attempt(method, pathAndQuery, body, timeout, token, candidates, start, 0, result);
        return result;
    }

    private void attempt(String method, String pathAndQuery, byte[] body, Duration timeout, String token,
                         List<String> candidates, int start, int tried, CompletableFuture<Answer> result) {
        if (closed) {
            result.completeExceptionally(new StoreException("store is closed", null));
            return;
        }
        String server = candidates.get((start + tried) % candidates.size());
        http.sendAsync(server, method, pathAndQuery, body, token, timeout).whenComplete((r, t) -> {
            if (t == null) {
                result.complete(new Answer(server, r));
                return;
            }
            Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
            boolean undelivered = cause instanceof ServerConnections.Undelivered;
            if (undelivered && tried + 1 < candidates.size()) {
                attempt(method, pathAndQuery, body, timeout, token, candidates, start, tried + 1, result);
            } else if (undelivered) {
                result.completeExceptionally(new NoLeaderException("No cluster leader: no server reachable ("
                        + candidates + ")", cause));
            } else {
                result.completeExceptionally(new StoreException("request to server " + server + " failed: "
                        + cause, cause));
            }
        });
    }

    private static RuntimeException failure(Answer a) {
        String msg = text(a.response().body());
        if (a.response().status() == 403) {
            return new PermissionDeniedException(msg.isEmpty() ? "Permission denied" : msg);
        }
        if (a.response().status() == 503) {
            return new NoLeaderException(msg.isEmpty() ? "No cluster leader" : msg, null);
        }
        return new StoreException("server " + a.server() + " answered HTTP " + a.response().status() + ": "
                + msg, null);
    }

    private static long indexOf(Answer a) {
        return parseLong(a.response().header("X-Consul-Index", "-1"), -1);
    }

    // ---- ReplicatedStore ---------------------------------------------------------------------------------

    /**
     * The ACL token this agent's own requests carry (the feed, read barriers, its own writes): the agent token.
     * Requests forwarded for an HTTP caller carry the caller's token instead.
     */
    public void agentToken(String token) {
        agentToken = token == null ? "" : token;
    }

    @Override
    public CompletableFuture<Applied> submit(Command command) {
        return submit(command, agentToken);
    }

    @Override
    public CompletableFuture<Applied> submit(Command command, String token) {
        Objects.requireNonNull(command, "command");
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        byte[] bytes;
        try {
            bytes = CommandCodec.encode(command);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(
                    new StoreException("cannot encode " + command.getClass().getSimpleName(), e));
        }
        if (bytes.length > RaftStore.MAX_ENTRY_BYTES - 4096) {
            return CompletableFuture.failedFuture(new StoreException(command.getClass().getSimpleName() + " of "
                    + bytes.length + " bytes exceeds the Raft entry limit of " + RaftStore.MAX_ENTRY_BYTES
                    + " bytes", null));
        }
        Duration timeout = settings.requestTimeout().plusSeconds(2);
        return forward("PUT", FeedProtocol.APPLY, bytes, timeout, token).thenCompose(a -> {
            if (a.response().status() != 200) {
                throw failure(a);
            }
            long at = indexOf(a);
            Result result = CommandCodec.decodeResult(a.response().body());
            Applied applied = new Applied(at, result, Set.of(), false);
            // Read-your-writes: answer once the local view has it, or anyway after the timeout (it committed).
            return awaitIndex(at).orTimeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .handle((v, t) -> applied);
        });
    }

    @Override
    public CompletableFuture<Void> readBarrier() {
        if (closed) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        Duration timeout = settings.requestTimeout().plusSeconds(2);
        return forward("GET", FeedProtocol.BARRIER, null, timeout).thenCompose(a -> {
            if (a.response().status() != 200) {
                throw failure(a);
            }
            long at = indexOf(a);
            return awaitIndex(at).orTimeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .exceptionally(t -> {
                        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
                        if (c instanceof TimeoutException) {
                            throw new StoreException("this client's read view did not reach index " + at
                                    + " within " + settings.requestTimeout().toMillis() + " ms", c);
                        }
                        throw c instanceof RuntimeException re ? re : new CompletionException(c);
                    });
        });
    }

    @Override
    public <T> T read(Function<KvReadView, T> reader) {
        lock.readLock().lock();
        try {
            return reader.apply(state);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long catalogIndex() {
        return catalogIndex;
    }

    @Override
    public Watches watches() {
        return watches;
    }

    /**
     * The client's view of the cluster. {@code lastContactMillis} is the time since the feed last answered plus
     * how long before that answer its server had heard from the leader; -1 before any answer.
     * {@code knownLeader} is true while the feed answers regularly and its server knows a leader.
     */
    @Override
    public RaftStatus status() {
        long at = lastFeedNanos;
        long since = at == Long.MIN_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - at);
        long contact = since < 0 ? -1 : since + Math.max(0, serverLastContact);
        boolean known = since >= 0 && since < settings.feedWait().toMillis() + STALE_SERVER_MILLIS
                && serverKnowsLeader;
        return new RaftStatus(settings.nodeName(), known ? leaderId : "", known ? leaderAddress : "", known, false,
                term, index, index, contact, FeedProtocol.peers(servers));
    }

    /** The servers this client knows (from the last feed answer), with their HTTP addresses. */
    public List<FeedProtocol.Server> servers() {
        return servers;
    }

    /** The server the feed follows now (host:port of its HTTP API), or null before the first request. */
    public String feedServer() {
        return feedServer;
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String peerId) {
        String q = peerId == null ? "" : "?id=" + URLEncoder.encode(peerId, StandardCharsets.UTF_8);
        return admin("POST", "/v1/operator/raft/transfer-leader" + q);
    }

    @Override
    public CompletableFuture<Void> removePeer(String peerId) {
        Objects.requireNonNull(peerId, "peerId");
        return admin("DELETE", "/v1/operator/raft/peer?id=" + URLEncoder.encode(peerId, StandardCharsets.UTF_8));
    }

    private CompletableFuture<Void> admin(String method, String path) {
        return forward(method, path, null, settings.requestTimeout().plusSeconds(2)).thenAccept(a -> {
            int code = a.response().status();
            if (code == 400) {
                throw new IllegalArgumentException(text(a.response().body()));
            }
            if (code != 200) {
                throw failure(a);
            }
        });
    }

    @Override
    public CompletableFuture<Long> takeSnapshot() {
        return CompletableFuture.failedFuture(new StoreException(
                "a client agent keeps no Raft log; take snapshots on a server", null));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closedLatch.countDown();
        http.close(); // closes the feed's connection too, which ends its blocking read
        feedThread.interrupt();
        try {
            feedThread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        waiters.failAll(new StoreException("store is closed", null));
        LOG.info("client agent {}: feed stopped at index {}", settings.nodeName(), index);
    }

    private static String text(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8).strip();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static long parseLong(String s, long fallback) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
