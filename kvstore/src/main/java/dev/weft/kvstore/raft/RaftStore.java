package dev.weft.kvstore.raft;

import dev.weft.kvstore.NoLeaderException;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.codec.CommandCodec;
import dev.weft.kvstore.feed.ChangeFeed;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.tls.TlsCredentials;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.thirdparty.io.netty.handler.ssl.SslProvider;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto.TypeCase;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.ServerNotReadyException;
import org.apache.ratis.protocol.exceptions.TimeoutIOException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@link ReplicatedStore} over Apache Ratis (gRPC transport): one Raft server (the member), a small pool of Raft
 * clients for proposals, read barriers and admin calls, the {@link WeftStateMachine}, and a leader-duties thread.
 *
 * <p><b>Identity.</b> The peer ID is derived from the Raft address ({@code 127.0.0.1:8300} is
 * {@code 127.0.0.1-8300}); the group ID from the datacenter name. Restarting on the same address and data
 * directory keeps the identity; the log, snapshots and Raft metadata live in {@code dataDir/raft}.
 *
 * <p><b>Bootstrap.</b> If {@code dataDir/raft} already holds the group, the member recovers it (peers come from
 * the log). Otherwise, with {@code bootstrapExpect > 0}, the initial configuration is this member plus the
 * join addresses and must have exactly {@code bootstrapExpect} servers; every initial server must be started
 * with the same set. With {@code bootstrapExpect == 0} the member starts empty, asks the join addresses for the
 * current configuration and has the leader add it (Raft configuration change, Mode ADD); the leader then brings
 * it up to date by log replication or snapshot install.
 *
 * <p><b>Writes.</b> {@link #submit} goes through Ratis' async client, spread round-robin over {@value #CLIENTS}
 * clients because one ordered client's requests are processed one after another on the leader; the leader
 * batches whatever is pending into append-entries and group-commits it with one fsync per batch.
 * A proposal fails with {@link NoLeaderException} when no leader answers within {@code requestTimeout}.
 * The reply comes from the leader: this member's local view may not include the write yet; use
 * {@link #readBarrier()} for read-your-writes on a follower.
 *
 * <p><b>Reads.</b> Ratis runs read-only requests with read option {@code LINEARIZABLE} and leader leases
 * enabled: the leader answers from its lease while the lease is valid (a majority acknowledged its heartbeats
 * within {@code 0.9 × electionMin}) and otherwise falls back to ReadIndex (one heartbeat round to a majority).
 * {@link #readBarrier()} sends such a read to the leader, which answers the index of its last applied command,
 * and then waits until this member has applied up to that index (on a follower right after a write, until the
 * leader's next append tells it the write is committed). {@link #read} never touches the network.
 *
 * <p><b>Leader duties.</b> While this member is the ready leader, a single thread runs the {@link LeaderDuty}s
 * every second with the injected clock and proposes what they return (session expiry is built in).
 *
 * <p>Threads: the Ratis server and client, {@code weft-raft-leader-*} (leader duties) and
 * {@code weft-raft-admin-*} (blocking admin calls). All stop in {@link #close()}.
 */
public final class RaftStore implements ReplicatedStore {
    private static final Logger LOG = LoggerFactory.getLogger(RaftStore.class);

    /** Largest encoded command accepted (for example a {@code Restore}); larger proposals fail. */
    public static final int MAX_ENTRY_BYTES = 16 * 1024 * 1024;
    /** gRPC message limit; above one maximal entry plus a batch of small ones. */
    static final int GRPC_MESSAGE_MAX_BYTES = 64 * 1024 * 1024;
    static final Duration LEADER_TICK = Duration.ofSeconds(1);
    private static final Duration RETRY_SLEEP = Duration.ofMillis(100);
    private static final Duration BARRIER_RETRY = Duration.ofMillis(50);
    /** Bound on one read-barrier attempt; above the read client's own request timeout (at most 2 s). */
    private static final Duration READ_ATTEMPT_TIMEOUT = Duration.ofMillis(3000);
    private static final int READ_FAILURES_BEFORE_RESET = 3;
    static final String APPENDER_RETRY_POLICY = "1ms,10, 50ms,20, 200ms,1000000";
    private static final Duration JOIN_RETRY_PAUSE = Duration.ofMillis(500);
    private static final String MEMBER_FILE = "member-address";
    private static final int SNAPSHOT_RETENTION = 2;
    static final int CLIENTS = 8;

    private final RaftConfig cfg;
    private final RaftAddress self;
    private final RaftPeerId selfId;
    private final RaftGroupId groupId;
    /** Replaced by {@link #restartServer} when Ratis stopped it after an internal error. */
    private volatile RaftServer server;
    /**
     * A few Raft clients used round-robin: one ordered Ratis client processes its requests one after another
     * on the leader (measured: ~260 writes/s with 1 client, 560-780 with 4-16, 64 concurrent writers, 3 members
     * on 2 cores). A client is replaced when Ratis gives up on it (see {@link #recoverClient}).
     */
    private final AtomicReferenceArray<RaftClient> clients;
    /** Group commit: concurrent proposals share Raft entries (see {@link ProposalBatcher}). */
    private final ExecutorService replyExecutor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "weft-proposal-replies");
        t.setDaemon(true);
        return t;
    });
    private final ProposalBatcher batcher = new ProposalBatcher(this::propose, CLIENTS, 512, 1 << 20, replyExecutor);
    private final AtomicInteger nextClient = new AtomicInteger();
    /**
     * Read barriers only: no Ratis retries, {@link #readBarrier} re-targets the current leader itself. Replaced
     * when an attempt hangs (see {@link #recoverReadClient}).
     */
    private volatile RaftClient readClient;
    /** Read-barrier attempts that failed in a row with the current read client. */
    private final AtomicInteger readFailures = new AtomicInteger();
    /** System.nanoTime() of the last read-client replacement (at most one per second). */
    private volatile long readClientReplacedNanos = Long.MIN_VALUE;
    /** Replaced together with {@link #server}; the watches are shared across replacements. */
    private volatile WeftStateMachine stateMachine;
    private final Watches watches;
    private final MeterRegistry registry;
    private final Path raftDir;
    /** System.nanoTime() since which the Raft server has been seen stopped; 0 while it runs. */
    private long deadSinceNanos;
    private volatile Counter serverRestarts;
    private final Clock clock;
    private final ScheduledExecutorService leaderDuties;
    private final ExecutorService admin;
    private final List<LeaderDuty> duties = new CopyOnWriteArrayList<>(
            List.of(LeaderDuty.SESSION_EXPIRY, new TombstoneReaper(Duration.ofMinutes(15))));
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Raft over mutual TLS when not null (see {@link #parameters}). */
    private final TlsCredentials tls;
    /** System.nanoTime() of the last observed contact from a leader; Long.MIN_VALUE when never. */
    private volatile long lastContactNanos = Long.MIN_VALUE;

    private RaftStore(RaftConfig cfg, RaftAddress self, RaftGroupId groupId, RaftServer server,
                      List<RaftClient> clients, RaftClient readClient, WeftStateMachine stateMachine, Clock clock,
                      MeterRegistry registry, Path raftDir, TlsCredentials tls) {
        this.cfg = cfg;
        this.tls = tls;
        this.registry = registry;
        this.raftDir = raftDir;
        this.watches = stateMachine.watches();
        this.self = self;
        this.selfId = self.peerId();
        this.groupId = groupId;
        this.server = server;
        this.clients = new AtomicReferenceArray<>(clients.toArray(RaftClient[]::new));
        this.readClient = readClient;
        this.stateMachine = stateMachine;
        this.clock = clock;
        this.leaderDuties = Executors.newSingleThreadScheduledExecutor(daemon("weft-raft-leader-" + selfId));
        this.admin = Executors.newSingleThreadExecutor(daemon("weft-raft-admin-" + selfId));
        long tick = LEADER_TICK.toMillis();
        leaderDuties.scheduleWithFixedDelay(this::runLeaderDuties, tick, tick, TimeUnit.MILLISECONDS);
        stateMachine.onLeaderChanged(this::leaderChanged);
    }

    /** Starts (or recovers, or joins) this Raft member with the system clock. */
    public static RaftStore start(RaftConfig cfg, MeterRegistry registry) {
        return start(cfg, registry, Clock.systemUTC());
    }

    /**
     * Starts this Raft member and blocks until it is running (and, when joining, until the leader added it).
     *
     * @throws IllegalArgumentException when the configuration is inconsistent (for example the initial cluster
     *                                  would not have exactly {@code bootstrapExpect} servers)
     * @throws StoreException           when the server cannot start or cannot join in time
     */
    public static RaftStore start(RaftConfig cfg, MeterRegistry registry, Clock clock) {
        return start(cfg, registry, clock, null);
    }

    /**
     * As {@link #start(RaftConfig, MeterRegistry, Clock)}; with {@code tls} not null every Raft connection (server
     * to server, this member's clients to the servers) uses TLS with the credentials' current material, and with
     * {@code verifyIncoming} the Raft port requires a server certificate signed by the CA from every peer.
     */
    public static RaftStore start(RaftConfig cfg, MeterRegistry registry, Clock clock, TlsCredentials tls) {
        Objects.requireNonNull(cfg, "cfg");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(clock, "clock");
        validate(cfg);
        Path raftDir = cfg.dataDir().resolve("raft");
        RaftAddress self;
        try {
            Files.createDirectories(raftDir);
            self = selfAddress(cfg, raftDir);
        } catch (IOException e) {
            throw new StoreException("cannot prepare Raft data directory " + raftDir, e);
        }
        // Ratis terminates the JVM (System.exit) when its gRPC server cannot bind, so check the port first.
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(InetAddress.getByName(self.host()), self.port()));
        } catch (IOException e) {
            throw new StoreException("cannot listen on Raft address " + self + ": " + e.getMessage(), e);
        }
        RaftPeerId selfId = self.peerId();
        RaftGroupId groupId = groupId(cfg.datacenter());
        List<RaftAddress> others = joinAddresses(cfg, self);
        Bootstrap boot = bootstrap(cfg, raftDir, self, groupId, others);

        WeftStateMachine sm = new WeftStateMachine(new Watches(), registry);
        RaftServer server = null;
        List<RaftClient> clients = new ArrayList<>();
        try {
            server = RaftServer.newBuilder()
                    .setServerId(selfId)
                    .setGroup(boot.group())
                    .setStateMachine(sm)
                    .setProperties(serverProperties(cfg, raftDir, self))
                    .setParameters(parameters(tls))
                    .setOption(boot.option())
                    .build();
            server.start();
            LOG.info("{}: Raft member started on {} in group {} (dc {}), {}", selfId, self, groupId.getUuid(),
                    cfg.datacenter(), boot.mode());

            Collection<RaftPeer> peers = server.getDivision(groupId).getRaftConf().getAllPeers();
            // A member that left (leaveCluster) may still find itself in its own log's configuration: the
            // cluster's word counts, so it asks the join addresses again.
            Path leftMarker = leftMarker(cfg);
            boolean left = Files.exists(leftMarker);
            if (left || peers.stream().noneMatch(p -> p.getId().equals(selfId))) {
                if (others.isEmpty()) {
                    LOG.warn("{}: not in the Raft configuration{} and no join address; waiting to be added", selfId,
                            left ? " (it left the cluster)" : "");
                } else {
                    peers = join(cfg, self, groupId, others, tls);
                    Files.deleteIfExists(leftMarker);
                }
            }
            Map<RaftPeerId, RaftPeer> clientPeers = new LinkedHashMap<>();
            peers.forEach(p -> clientPeers.put(p.getId(), p));
            clientPeers.putIfAbsent(selfId, self.peer());
            RaftGroup clientGroup = RaftGroup.valueOf(groupId, clientPeers.values());
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(newClient(cfg, clientGroup, tls));
            }
            clients.add(newReadClient(cfg, clientGroup, tls));
            RaftStore store = new RaftStore(cfg, self, groupId, server, clients.subList(0, CLIENTS),
                    clients.get(CLIENTS), sm, clock, registry, raftDir, tls);
            store.bindMeters(registry);
            return store;
        } catch (IOException | RuntimeException e) {
            clients.forEach(RaftStore::closeQuietly);
            closeQuietly(server);
            try {
                sm.close();
            } catch (IOException ignored) {
                // meters only
            }
            if (e instanceof IllegalArgumentException || e instanceof StoreException) {
                throw (RuntimeException) e;
            }
            throw new StoreException("cannot start Raft member " + self + ": " + e.getMessage(), e);
        }
    }

    /** How this member starts: the initial group handed to Ratis, the storage option, and a log line. */
    private record Bootstrap(RaftGroup group, RaftStorage.StartupOption option, String mode) {
    }

    private static Bootstrap bootstrap(RaftConfig cfg, Path raftDir, RaftAddress self, RaftGroupId groupId,
                                       List<RaftAddress> others) {
        List<RaftPeer> initial = new ArrayList<>();
        initial.add(self.peer());
        others.forEach(a -> initial.add(a.peer()));
        if (Files.isDirectory(raftDir.resolve(groupId.getUuid().toString()))) {
            // The configuration stored in the log or Raft metadata wins. A bootstrap member that stopped before
            // it persisted the first configuration entry still needs the initial one, or it could never vote.
            RaftGroup group = cfg.bootstrapExpect() > 0 && initial.size() == cfg.bootstrapExpect()
                    ? RaftGroup.valueOf(groupId, initial) : RaftGroup.valueOf(groupId);
            return new Bootstrap(group, RaftStorage.StartupOption.RECOVER, "recovering from " + raftDir);
        }
        if (cfg.bootstrapExpect() > 0) {
            if (initial.size() != cfg.bootstrapExpect()) {
                throw new IllegalArgumentException("bootstrap_expect is " + cfg.bootstrapExpect()
                        + " but this server and its join addresses make " + initial.size() + " servers "
                        + initial.stream().map(RaftPeer::getAddress).toList() + "; list exactly the other "
                        + (cfg.bootstrapExpect() - 1) + " initial servers in join");
            }
            return new Bootstrap(RaftGroup.valueOf(groupId, initial), RaftStorage.StartupOption.FORMAT,
                    "bootstrapping a new cluster of " + initial.size());
        }
        if (others.isEmpty()) {
            throw new IllegalArgumentException(
                    "bootstrap_expect is 0 (join an existing cluster) but no join address is configured");
        }
        return new Bootstrap(RaftGroup.valueOf(groupId), RaftStorage.StartupOption.FORMAT, "joining via " + others);
    }

    // ---- ReplicatedStore ---------------------------------------------------------------------------------

    @Override
    public CompletableFuture<Applied> submit(Command command) {
        Objects.requireNonNull(command, "command");
        if (closed.get()) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        byte[] bytes;
        try {
            bytes = CommandCodec.encode(command);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(
                    new StoreException("cannot encode " + command.getClass().getSimpleName(), e));
        }
        if (bytes.length > MAX_ENTRY_BYTES - 4096) {
            return CompletableFuture.failedFuture(new StoreException(command.getClass().getSimpleName() + " of "
                    + bytes.length + " bytes exceeds the Raft entry limit of " + MAX_ENTRY_BYTES + " bytes", null));
        }
        return batcher.submit(bytes);
    }

    /** Identity of in-process proposals on the leader (Ratis' retry cache is keyed by client and call ID). */
    private final ClientId localClientId = ClientId.randomId();
    private final AtomicLong localCallIds = new AtomicLong();
    private volatile Timer commitTimer;
    private volatile DistributionSummary batchSize;

    /** Raft meters: commit latency per entry, commands per entry, commit index, term, leadership. */
    private void bindMeters(MeterRegistry registry) {
        commitTimer = Timer.builder("weft.raft.commit")
                .description("time from proposing a Raft entry to its committed reply")
                .publishPercentiles(0.5, 0.99).register(registry);
        batchSize = DistributionSummary.builder("weft.raft.batch.commands")
                .description("commands carried by one Raft entry (group commit)").register(registry);
        Gauge.builder("weft.raft.commit.index", this, s -> s.statusValue(st -> st.commitIndex())).register(registry);
        Gauge.builder("weft.raft.term", this, s -> s.statusValue(st -> st.term())).register(registry);
        Gauge.builder("weft.raft.leader", this, s -> s.statusValue(st -> st.isLeader() ? 1 : 0))
                .description("1 while this member is the leader").register(registry);
        Gauge.builder("weft.raft.proposals.queued", batcher, ProposalBatcher::queued).register(registry);
        serverRestarts = Counter.builder("weft.raft.server.restarts")
                .description("Raft servers restarted in place after Ratis stopped them on an internal error")
                .register(registry);
    }

    private double statusValue(java.util.function.ToDoubleFunction<RaftStatus> f) {
        if (closed.get()) {
            return Double.NaN;
        }
        try {
            return f.applyAsDouble(status());
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Proposes one encoded command (possibly a {@link Command.Batch}) as one Raft entry. */
    private CompletableFuture<Applied> propose(byte[] bytes) {
        long started = System.nanoTime();
        CompletableFuture<Applied> applied = proposeEntry(bytes);
        Timer timer = commitTimer;
        if (timer != null) {
            applied.whenComplete((a, e) -> {
                if (e == null) {
                    timer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                    if (a.result() instanceof Result.Batch b) {
                        batchSize.record(b.results().size());
                    } else {
                        batchSize.record(1);
                    }
                }
            });
        }
        return applied;
    }

    /**
     * On the leader, the entry is handed to the local Ratis server in-process (no gRPC round trip to itself);
     * on a follower it goes through a Raft client to the leader. An in-process proposal that fails (for example
     * because leadership was lost after the entry was appended) is reported as failed, never re-sent through
     * a client: the entry may still commit, and a second copy would apply twice.
     */
    private CompletableFuture<Applied> proposeEntry(byte[] bytes) {
        Message message = Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
        CompletableFuture<RaftClientReply> sent;
        try {
            DivisionInfo info = division().getInfo();
            if (info.isLeader() && info.isLeaderReady()) {
                RaftClientRequest request = RaftClientRequest.newBuilder()
                        .setClientId(localClientId)
                        .setServerId(selfId)
                        .setGroupId(groupId)
                        .setCallId(localCallIds.incrementAndGet())
                        .setMessage(message)
                        .setType(RaftClientRequest.writeRequestType())
                        .build();
                sent = server.submitClientRequestAsync(request);
                // LeaderNotReady is refused before anything is appended, so that one alone may be re-sent.
                return withDeadline(sent).handle((reply, error) -> {
                    Throwable cause = error != null ? unwrap(error) : reply.isSuccess() ? null : reply.getException();
                    if (cause instanceof LeaderNotReadyException) {
                        return sendThroughClient(message);
                    }
                    return error != null ? CompletableFuture.<RaftClientReply>failedFuture(error)
                            : CompletableFuture.completedFuture(reply);
                }).thenCompose(f -> f).handle(RaftStore::toApplied);
            }
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(failure("write", e));
        }
        return sendThroughClient(message).handle(RaftStore::toApplied);
    }

    private CompletableFuture<RaftClientReply> sendThroughClient(Message message) {
        CompletableFuture<RaftClientReply> sent;
        try {
            int slot = Math.floorMod(nextClient.getAndIncrement(), CLIENTS);
            RaftClient c = clients.get(slot);
            sent = c.async().send(message);
            sent.whenComplete((reply, error) -> recoverClient(slot, c, error));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return withDeadline(sent);
    }

    private static Applied toApplied(RaftClientReply reply, Throwable error) {
        if (error != null) {
            throw failure("write", error);
        }
        if (!reply.isSuccess()) {
            throw failure("write", reply.getException());
        }
        Result result = CommandCodec.decodeResult(reply.getMessage().getContent().toByteArray());
        return new Applied(reply.getLogIndex(), result, Set.of(), false);
    }

    /**
     * Linearizable read barrier: a read-only request to the current leader (confirmed by its lease while valid,
     * else by a ReadIndex heartbeat round) answers the index of the leader's last applied command, and the
     * barrier completes once this member has applied up to it. The request always targets the leader this
     * member knows, re-resolved on every attempt until {@code requestTimeout}: with read option
     * {@code LINEARIZABLE} a follower that receives a read serves it through Ratis' follower ReadIndex path,
     * which stalled until its timeout in our tests after restarts and partitions, while leader-side reads did
     * not.
     */
    @Override
    public CompletableFuture<Void> readBarrier() {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        attemptBarrier(System.nanoTime() + cfg.requestTimeout().toNanos(), result, null);
        return result;
    }

    private void attemptBarrier(long deadline, CompletableFuture<Void> result, Throwable last) {
        if (closed.get()) {
            result.completeExceptionally(new StoreException("store is closed", null));
            return;
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            result.completeExceptionally(last instanceof StoreException se ? se
                    : new NoLeaderException("No cluster leader: read barrier failed within " + cfg.requestTimeout()
                    + (last == null ? "" : ": " + rootCause(last)), last));
            return;
        }
        RaftPeerId leader;
        try {
            leader = division().getInfo().getLeaderId();
        } catch (RuntimeException e) {
            retryBarrier(deadline, result, e);
            return;
        }
        if (leader == null) {
            retryBarrier(deadline, result, last);
            return;
        }
        CompletableFuture<RaftClientReply> sent;
        RaftClient client = readClient;
        try {
            // Our own bound on the attempt: after a peer's address was refused or a stream broke, Ratis' unordered
            // async client was seen never completing a read-only request (the chaos tests' one-way partition),
            // which left every later read on this member hanging.
            sent = client.async().sendReadOnlyUnordered(Message.EMPTY, leader)
                    .orTimeout(Math.min(remaining, READ_ATTEMPT_TIMEOUT.toNanos()), TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            retryBarrier(deadline, result, e);
            return;
        }
        sent.whenComplete((reply, error) -> {
            Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
            if (failure != null) {
                // A hung attempt, or several failed ones in a row: the client's channel to the leader may be stuck
                // (seen after a one-way partition: every attempt failed for minutes while fresh clients worked).
                if (error instanceof TimeoutException || readFailures.incrementAndGet() >= READ_FAILURES_BEFORE_RESET) {
                    recoverReadClient(client, failure);
                }
                retryBarrier(deadline, result, failure);
                return;
            }
            readFailures.set(0);
            long leaderApplied = reply.getMessage().getContent().asReadOnlyByteBuffer().getLong();
            CompletableFuture<Void> local = stateMachine.awaitApplied(leaderApplied);
            if (local.isDone()) {
                result.complete(null);
                return;
            }
            long left = Math.max(1, deadline - System.nanoTime());
            local.orTimeout(left, TimeUnit.NANOSECONDS).whenCompleteAsync((v, t) -> {
                if (t == null) {
                    result.complete(null);
                } else {
                    result.completeExceptionally(new NoLeaderException("No cluster leader: this member did not "
                            + "apply up to the leader's index " + leaderApplied + " within " + cfg.requestTimeout(),
                            t));
                }
            });
        });
    }

    private void retryBarrier(long deadline, CompletableFuture<Void> result, Throwable last) {
        CompletableFuture.delayedExecutor(BARRIER_RETRY.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> attemptBarrier(deadline, result, last));
    }

    @Override
    public <T> T read(Function<KvReadView, T> reader) {
        return stateMachine.read(reader);
    }

    @Override
    public long catalogIndex() {
        return stateMachine.catalogIndex();
    }

    @Override
    public Watches watches() {
        return watches;
    }

    @Override
    public ChangeFeed feed() {
        return stateMachine.feed();
    }

    /**
     * This member's view. {@code lastContactMillis}: 0 on the leader; on a follower the time since the last
     * append-entries or heartbeat from the leader (Ratis' follower role info); while there is no leader, the
     * time since the last contact this store observed (it samples every second), or -1 if it never saw one.
     */
    @Override
    public RaftStatus status() {
        RaftServer.Division division = division();
        DivisionInfo info = division.getInfo();
        RaftConfiguration conf = division.getRaftConf();
        RaftPeerId leaderId = info.getLeaderId();
        RaftPeer leader = leaderId == null ? null : findPeer(conf, leaderId);
        long lastContact;
        if (info.isLeader()) {
            lastContact = 0;
        } else {
            long elapsed = observeContact(info);
            if (elapsed >= 0) {
                lastContact = elapsed;
            } else {
                long at = lastContactNanos;
                lastContact = at == Long.MIN_VALUE ? -1 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - at);
            }
        }
        List<RaftStatus.Peer> peers = new ArrayList<>();
        conf.getCurrentPeers().forEach(p -> peers.add(new RaftStatus.Peer(p.getId().toString(), p.getAddress(),
                true)));
        conf.getCurrentPeers(RaftPeerRole.LISTENER).forEach(p -> peers.add(
                new RaftStatus.Peer(p.getId().toString(), p.getAddress(), false)));
        peers.sort(Comparator.comparing(RaftStatus.Peer::id));
        return new RaftStatus(selfId.toString(), leaderId == null ? "" : leaderId.toString(),
                leader == null ? "" : leader.getAddress(), leaderId != null, info.isLeader(), info.getCurrentTerm(),
                division.getRaftLog().getLastCommittedIndex(), info.getLastAppliedIndex(), lastContact, peers);
    }

    @Override
    public CompletableFuture<Void> transferLeadership(String peerId) {
        return adminCall("transfer leadership", () -> {
            RaftConfiguration conf = division().getRaftConf();
            RaftPeerId target;
            if (peerId == null) {
                RaftPeerId leader = division().getInfo().getLeaderId();
                target = conf.getCurrentPeers().stream()
                        .map(RaftPeer::getId)
                        .filter(id -> !id.equals(leader))
                        .min(Comparator.comparing(RaftPeerId::toString))
                        .orElseThrow(() -> new IllegalStateException("no other server to transfer leadership to"));
            } else {
                target = RaftPeerId.valueOf(peerId);
                if (findPeer(conf, target) == null) {
                    throw new IllegalArgumentException("unknown Raft peer " + peerId);
                }
            }
            check(clients.get(0).admin().transferLeadership(target, cfg.requestTimeout().toMillis()));
            LOG.info("{}: leadership transferred to {}", selfId, target);
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> removePeer(String peerId) {
        Objects.requireNonNull(peerId, "peerId");
        return adminCall("remove peer", () -> {
            RaftPeerId id = RaftPeerId.valueOf(peerId);
            RaftConfiguration conf = division().getRaftConf();
            List<RaftPeer> current = List.copyOf(conf.getCurrentPeers());
            if (current.stream().noneMatch(p -> p.getId().equals(id))) {
                throw new IllegalArgumentException("unknown Raft peer " + peerId);
            }
            List<RaftPeer> next = current.stream().filter(p -> !p.getId().equals(id)).toList();
            if (next.isEmpty()) {
                throw new IllegalArgumentException("cannot remove the last Raft server " + peerId);
            }
            check(clients.get(0).admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
                    .setServersInCurrentConf(current)
                    .setServersInNewConf(next)
                    .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                    .build()));
            LOG.info("{}: removed Raft peer {}", selfId, peerId);
            return null;
        });
    }

    @Override
    public CompletableFuture<Long> takeSnapshot() {
        return adminCall("snapshot", () -> {
            // creation gap 1: snapshot whenever at least one entry was applied since the last one
            RaftClientReply reply = clients.get(0).getSnapshotManagementApi(selfId)
                    .create(1, cfg.requestTimeout().toMillis());
            check(reply);
            return reply.getLogIndex();
        });
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        leaderDuties.shutdownNow();
        admin.shutdownNow();
        for (int i = 0; i < clients.length(); i++) {
            closeQuietly(clients.get(i));
        }
        closeQuietly(readClient);
        closeQuietly(server);
        replyExecutor.shutdown();
        try {
            replyExecutor.awaitTermination(2, TimeUnit.SECONDS);
            leaderDuties.awaitTermination(2, TimeUnit.SECONDS);
            admin.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("{}: Raft member closed", selfId);
    }

    // ---- extras ------------------------------------------------------------------------------------------

    /**
     * A server's graceful leave ({@code weft leave}), as in Consul: removes this member from the Raft
     * configuration, so that the other servers stop counting it toward their quorum. On the leader, Ratis commits
     * the new configuration and then steps down. The only server is not removed (a cluster needs one), and a
     * member that is no longer in the configuration has nothing to do. Blocks until the removal is committed.
     *
     * @return true when this member was removed, false when it was the only server or no longer a member
     * @throws StoreException when the removal fails or does not commit within the request timeout (no quorum)
     */
    public boolean leaveCluster() {
        List<RaftPeer> peers = List.copyOf(division().getRaftConf().getCurrentPeers());
        if (peers.stream().noneMatch(p -> p.getId().equals(selfId))) {
            LOG.info("{}: leave: not in the Raft configuration; nothing to remove", selfId);
            return false;
        }
        if (peers.size() == 1) {
            LOG.info("{}: leave: the only Raft server stays in the configuration", selfId);
            return false;
        }
        try {
            removePeer(selfId.toString()).get(cfg.requestTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while leaving the Raft configuration", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new StoreException("could not leave the Raft configuration: " + cause.getMessage(), cause);
        } catch (TimeoutException e) {
            throw new StoreException("could not leave the Raft configuration within "
                    + cfg.requestTimeout().multipliedBy(2).toMillis() + " ms (no quorum?)", e);
        }
        try {
            Files.writeString(leftMarker(cfg), "left the Raft configuration at " + clock.instant() + "\n");
        } catch (IOException e) {
            LOG.warn("{}: could not record the leave in {}: {}; delete the data dir before this server rejoins",
                    selfId, leftMarker(cfg), e.toString());
        }
        LOG.info("{}: left the Raft configuration; servers now {}", selfId, peers.stream()
                .map(p -> p.getId().toString()).filter(id -> !id.equals(selfId.toString())).toList());
        return true;
    }

    /**
     * Written when this member left the configuration: on its next start it asks the join addresses to add it
     * again, whatever its own log says (the entry removing it may never have reached it).
     */
    private static Path leftMarker(RaftConfig cfg) {
        return cfg.dataDir().resolve("raft-left");
    }

    /** This member's Raft peer ID ({@code host-port}). */
    public String selfId() {
        return selfId.toString();
    }

    /** This member's Raft address ({@code host:port}). */
    public String address() {
        return self.toString();
    }

    /** Adds a time-driven decision that the leader takes every second (see {@link LeaderDuty}). */
    public void addLeaderDuty(LeaderDuty duty) {
        duties.add(Objects.requireNonNull(duty));
    }

    /** First index still in this member's Raft log (grows when the log is purged after a snapshot). */
    long logStartIndex() {
        return division().getRaftLog().getStartIndex();
    }

    /** The Raft peer ID a member on {@code address} ({@code host:port}) has. */
    public static String peerIdOf(String address) {
        return RaftAddress.parse(address).peerId().toString();
    }

    // ---- leader duties -----------------------------------------------------------------------------------

    private void runLeaderDuties() {
        if (closed.get()) {
            return;
        }
        if (!serverAlive()) {
            return;
        }
        try {
            DivisionInfo info = division().getInfo();
            observeContact(info);
            if (!info.isLeader() || !info.isLeaderReady()) {
                return;
            }
            long now = clock.millis();
            List<Command> due = new ArrayList<>();
            for (LeaderDuty duty : duties) {
                due.addAll(read(view -> duty.due(view, now)));
            }
            if (due.isEmpty()) {
                return;
            }
            List<CompletableFuture<Applied>> proposals = new ArrayList<>();
            for (Command c : due) {
                proposals.add(submit(c).whenComplete((applied, error) -> {
                    if (error == null && c instanceof Command.SessionExpire s
                            && applied.result() instanceof Result.Bool b && b.value()) {
                        LOG.info("{}: session {} expired (TTL), index {}", selfId, s.id(), applied.index());
                    } else if (error != null && !closed.get()) {
                        LOG.warn("{}: leader duty {} failed: {}", selfId, c.getClass().getSimpleName(),
                                rootCause(error).toString());
                    }
                }));
            }
            CompletableFuture.allOf(proposals.toArray(CompletableFuture[]::new))
                    .get(cfg.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // logged per proposal above
        } catch (RuntimeException e) {
            if (!closed.get()) {
                LOG.warn("{}: leader duties failed: {}", selfId, e.toString());
            }
        }
    }

    /**
     * Watchdog, every second: Ratis closes a member's division for good after some internal errors (seen in the
     * long chaos run: "Failed to updateIncreasingly for flushIndex" in the log worker right after a snapshot
     * install that followed a restart). The process then stays up with a dead Raft member: writes still go
     * through the Raft clients, but this member never applies anything again. After 2 s in that state, the
     * server is restarted in place from its data dir (as a process restart would); the HTTP API, DNS and the
     * watches stay up. Metric {@code weft.raft.server.restarts}.
     *
     * @return whether the server is running now
     */
    private boolean serverAlive() {
        boolean alive;
        String state;
        try {
            DivisionInfo info = server.getDivision(groupId).getInfo();
            alive = info.isAlive();
            state = String.valueOf(info.getLifeCycleState());
        } catch (IOException | RuntimeException e) {
            alive = false;
            state = e.toString();
        }
        if (alive) {
            deadSinceNanos = 0;
            return true;
        }
        long now = System.nanoTime();
        if (deadSinceNanos == 0) {
            deadSinceNanos = now;
            LOG.warn("{}: the Raft server is not running ({})", selfId, state);
            return false;
        }
        if (now - deadSinceNanos >= TimeUnit.SECONDS.toNanos(2)) {
            restartServer(state);
        }
        return false;
    }

    /** Replaces a stopped Raft server (and its state machine) with a new one recovered from the data dir. */
    private synchronized void restartServer(String why) {
        if (closed.get()) {
            return;
        }
        LOG.error("{}: the Raft server stopped after an internal error ({}); restarting it from {}", selfId, why,
                raftDir);
        closeQuietly(server);
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(InetAddress.getByName(self.host()), self.port()));
        } catch (IOException e) {
            LOG.warn("{}: Raft port {} not free yet ({}); retrying", selfId, self, e.getMessage());
            return;
        }
        WeftStateMachine sm = new WeftStateMachine(watches, registry);
        sm.onLeaderChanged(this::leaderChanged);
        RaftServer fresh = null;
        try {
            fresh = RaftServer.newBuilder()
                    .setServerId(selfId)
                    .setGroup(RaftGroup.valueOf(groupId))
                    .setStateMachine(sm)
                    .setProperties(serverProperties(cfg, raftDir, self))
                    .setParameters(parameters(tls))
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            fresh.start();
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: restarting the Raft server failed; retrying: {}", selfId, e.toString());
            closeQuietly(fresh);
            try {
                sm.close();
            } catch (IOException ignored) {
                // meters only
            }
            return;
        }
        stateMachine = sm;
        server = fresh;
        deadSinceNanos = 0;
        Counter c = serverRestarts;
        if (c != null) {
            c.increment();
        }
        LOG.info("{}: Raft server restarted", selfId);
    }

    /** Stops this member's Raft server as an internal Ratis error would (tests of the watchdog). */
    void killServerForTest() throws IOException {
        server.getDivision(groupId).close();
    }

    /** Records and returns the follower's time since the leader's last RPC, or -1 when it has no leader. */
    private long observeContact(DivisionInfo info) {
        if (info.isLeader()) {
            lastContactNanos = System.nanoTime();
            return 0;
        }
        RoleInfoProto role = info.getRoleInfoProto();
        if (info.getLeaderId() != null && role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
            long elapsed = Math.max(0, role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs());
            lastContactNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(elapsed);
            return elapsed;
        }
        return -1;
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    /**
     * Once a request of Ratis' ordered async client exhausts its retries (no leader for {@code requestTimeout}),
     * the client closes its sliding window for good and fails every later request. Replace it with a fresh
     * client (same peers as the current configuration) so that writes work again when a leader is back.
     */
    private void recoverClient(int slot, RaftClient used, Throwable error) {
        if (error == null || closed.get()) {
            return;
        }
        boolean broken = false;
        for (Throwable t = error; t != null && !broken; t = t.getCause() == t ? null : t.getCause()) {
            broken = t instanceof RaftRetryFailureException || t instanceof AlreadyClosedException;
        }
        if (!broken) {
            return;
        }
        synchronized (clients) {
            if (closed.get() || clients.get(slot) != used) {
                return;
            }
            clients.set(slot, newClient(cfg, currentGroup(), tls));
            LOG.info("{}: new Raft client {} after {}", selfId, slot, rootCause(error).toString());
        }
        Thread closer = new Thread(() -> closeQuietly(used), "weft-raft-client-close-" + selfId);
        closer.setDaemon(true);
        closer.start();
    }

    /**
     * A follower sends its proposals and read barriers through Ratis clients, and an ordered Ratis client keeps
     * sending to the leader it knows until an attempt fails. When the old leader's host is gone without closing
     * its connections (power loss, a cut cable), each attempt waits out its timeout (3 s) and the requests queued
     * behind it in the client's sliding window wait too: writes through a follower failed for 20 s after a new
     * leader was elected (measured by examples/failover). So on every change to a new leader that is not this
     * member, new requests go to fresh clients that start at that leader; the old clients finish what they hold
     * and are closed once the request timeout has passed.
     */
    private void leaderChanged(RaftPeerId leader) {
        if (leader == null || leader.equals(selfId) || closed.get()) {
            return;
        }
        try {
            admin.execute(() -> replaceClients(leader));
        } catch (RuntimeException e) {
            LOG.debug("{}: cannot replace the Raft clients: {}", selfId, e.toString());
        }
    }

    private void replaceClients(RaftPeerId leader) {
        List<RaftClient> old = new ArrayList<>();
        synchronized (clients) {
            if (closed.get()) {
                return;
            }
            RaftGroup group = currentGroup();
            if (!group.getPeers().stream().anyMatch(p -> p.getId().equals(leader))) {
                return; // not in the configuration this member knows: keep the clients, they learn it themselves
            }
            for (int i = 0; i < clients.length(); i++) {
                old.add(clients.get(i));
                clients.set(i, newClient(cfg, group, leader, tls));
            }
            old.add(readClient);
            readClient = newReadClient(cfg, group, leader, tls);
        }
        LOG.info("{}: {} new Raft clients starting at the new leader {}", selfId, old.size(), leader);
        try {
            leaderDuties.schedule(() -> old.forEach(RaftStore::closeQuietly),
                    cfg.requestTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            old.forEach(RaftStore::closeQuietly); // shutting down
        }
    }

    /** Replaces a read client whose attempt hung or whose attempts keep failing (at most once per second). */
    private void recoverReadClient(RaftClient hung, Throwable error) {
        synchronized (clients) {
            long now = System.nanoTime();
            if (closed.get() || readClient != hung || (readClientReplacedNanos != Long.MIN_VALUE
                    && now - readClientReplacedNanos < TimeUnit.SECONDS.toNanos(1))) {
                return;
            }
            readClientReplacedNanos = now;
            readFailures.set(0);
            readClient = newReadClient(cfg, currentGroup(), tls);
            LOG.info("{}: new Raft read client after failed read barrier attempts ({})", selfId,
                    rootCause(error).toString());
        }
        Thread closer = new Thread(() -> closeQuietly(hung), "weft-raft-read-client-close-" + selfId);
        closer.setDaemon(true);
        closer.start();
    }

    /** The group for a new client: the current configuration's peers (and this member). */
    private RaftGroup currentGroup() {
        Map<RaftPeerId, RaftPeer> peers = new LinkedHashMap<>();
        try {
            division().getRaftConf().getCurrentPeers().forEach(p -> peers.put(p.getId(), p));
        } catch (RuntimeException e) {
            LOG.debug("{}: no configuration for a new client: {}", selfId, e.toString());
        }
        peers.putIfAbsent(selfId, self.peer());
        return RaftGroup.valueOf(groupId, peers.values());
    }

    private RaftServer.Division division() {
        try {
            return server.getDivision(groupId);
        } catch (IOException e) {
            throw new StoreException("Raft group " + groupId + " is not running on " + selfId, e);
        }
    }

    private interface AdminCall<T> {
        T run() throws IOException;
    }

    private <T> CompletableFuture<T> adminCall(String what, AdminCall<T> call) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new StoreException("store is closed", null));
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            admin.execute(() -> {
                try {
                    f.complete(call.run());
                } catch (IllegalArgumentException | IllegalStateException e) {
                    f.completeExceptionally(new StoreException(what + ": " + e.getMessage(), e));
                } catch (Throwable t) {
                    f.completeExceptionally(failure(what, t));
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(failure(what, e));
        }
        return f;
    }

    private <T> CompletableFuture<T> withDeadline(CompletableFuture<T> f) {
        return f.orTimeout(cfg.requestTimeout().toMillis() + 500, TimeUnit.MILLISECONDS);
    }

    private static void check(RaftClientReply reply) throws IOException {
        if (!reply.isSuccess()) {
            throw reply.getException() != null ? reply.getException()
                    : new IOException("request failed: " + reply);
        }
    }

    /**
     * Maps a Ratis failure: no leader, leader not ready or stepping down, read-index failures, exhausted
     * retries and timeouts are {@link NoLeaderException}; anything else is a {@link StoreException}.
     */
    static StoreException failure(String what, Throwable error) {
        Throwable root = unwrap(error);
        if (root instanceof StoreException se) {
            return se;
        }
        for (Throwable t = root; t != null; t = t.getCause()) {
            if (t instanceof NotLeaderException || t instanceof LeaderNotReadyException
                    || t instanceof LeaderSteppingDownException || t instanceof ReadIndexException
                    || t instanceof ReadException || t instanceof ServerNotReadyException
                    || t instanceof RaftRetryFailureException || t instanceof TimeoutIOException
                    || t instanceof TimeoutException || t instanceof ConnectException) {
                return new NoLeaderException("No cluster leader: " + what + " failed: " + t.getMessage(), root);
            }
            if (t instanceof AlreadyClosedException) {
                break;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return new StoreException(what + " failed: " + root, root);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable x = t;
        while ((x instanceof CompletionException || x instanceof ExecutionException) && x.getCause() != null) {
            x = x.getCause();
        }
        return x;
    }

    private static Throwable rootCause(Throwable t) {
        Throwable x = unwrap(t);
        return x instanceof StoreException && x.getCause() != null ? x.getCause() : x;
    }

    private static RaftPeer findPeer(RaftConfiguration conf, RaftPeerId id) {
        return conf.getAllPeers().stream().filter(p -> p.getId().equals(id)).findFirst()
                .orElseGet(() -> conf.getAllPeers(RaftPeerRole.LISTENER).stream()
                        .filter(p -> p.getId().equals(id)).findFirst().orElse(null));
    }

    static RaftGroupId groupId(String datacenter) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("weft-" + datacenter).getBytes(StandardCharsets.UTF_8)));
    }

    private static void validate(RaftConfig cfg) {
        if (cfg.bootstrapExpect() < 0) {
            throw new IllegalArgumentException("bootstrap_expect must be >= 0, got " + cfg.bootstrapExpect());
        }
        if (cfg.datacenter() == null || cfg.datacenter().isBlank()) {
            throw new IllegalArgumentException("datacenter must not be empty");
        }
        if (cfg.electionMin().isNegative() || cfg.electionMin().isZero()
                || cfg.electionMax().compareTo(cfg.electionMin()) <= 0) {
            throw new IllegalArgumentException("need 0 < electionMin < electionMax, got " + cfg.electionMin()
                    + " and " + cfg.electionMax());
        }
        if (cfg.snapshotEvery() <= 0) {
            throw new IllegalArgumentException("snapshotEvery must be > 0, got " + cfg.snapshotEvery());
        }
        if (cfg.requestTimeout().toMillis() < 100) {
            throw new IllegalArgumentException("requestTimeout must be at least 100 ms, got " + cfg.requestTimeout());
        }
        if (cfg.logSegmentBytes() < 1024) {
            throw new IllegalArgumentException("logSegmentBytes must be at least 1024, got " + cfg.logSegmentBytes());
        }
    }

    /** The join addresses other than this member, parsed and de-duplicated, in order. */
    private static List<RaftAddress> joinAddresses(RaftConfig cfg, RaftAddress self) {
        Set<RaftAddress> out = new LinkedHashSet<>();
        for (String s : cfg.join()) {
            RaftAddress a = RaftAddress.parse(s);
            if (!a.peerId().equals(self.peerId())) {
                out.add(a);
            }
        }
        return List.copyOf(out);
    }

    /**
     * This member's address. With port 0 the port is chosen once (a free port on the bind host) and kept in
     * {@code raft/member-address}, so that the member keeps its identity across restarts.
     */
    private static RaftAddress selfAddress(RaftConfig cfg, Path raftDir) throws IOException {
        Path file = raftDir.resolve(MEMBER_FILE);
        RaftAddress stored = null;
        if (Files.exists(file)) {
            try {
                stored = RaftAddress.parse(Files.readString(file, StandardCharsets.UTF_8).trim());
            } catch (IllegalArgumentException e) {
                LOG.warn("ignoring unreadable {}: {}", file, e.getMessage());
            }
        }
        RaftAddress self;
        if (cfg.raftPort() != 0) {
            self = new RaftAddress(cfg.bindHost(), cfg.raftPort());
        } else if (stored != null && stored.host().equals(cfg.bindHost())) {
            self = stored;
        } else {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(cfg.bindHost()))) {
                self = new RaftAddress(cfg.bindHost(), s.getLocalPort());
            }
        }
        if (stored != null && !stored.equals(self)) {
            LOG.warn("Raft address changed from {} to {}: this member now has the new identity {} and must be "
                    + "added to the cluster again", stored, self, self.peerId());
        }
        if (!self.equals(stored)) {
            Files.writeString(file, self + "\n", StandardCharsets.UTF_8);
        }
        return self;
    }

    /**
     * Joins a running cluster: reads the current configuration from one of the join addresses (group info),
     * then asks the leader to add this member. Retries across the addresses until a deadline.
     */
    private static Collection<RaftPeer> join(RaftConfig cfg, RaftAddress self, RaftGroupId groupId,
                                             List<RaftAddress> seeds, TlsCredentials tls) throws IOException {
        RaftPeerId selfId = self.peerId();
        long deadline = System.nanoTime() + cfg.requestTimeout().multipliedBy(10).toNanos();
        List<RaftPeer> seedPeers = seeds.stream().map(RaftAddress::peer).toList();
        Exception last = null;
        while (true) {
            for (RaftAddress seed : seeds) {
                try (RaftClient seedClient = newClient(cfg, RaftGroup.valueOf(groupId, seedPeers), tls)) {
                    GroupInfoReply info = seedClient.getGroupManagementApi(seed.peerId()).info(groupId);
                    check(info);
                    List<RaftPeer> current = List.copyOf(info.getGroup().getPeers());
                    if (current.stream().anyMatch(p -> p.getId().equals(selfId))) {
                        LOG.info("{}: already a member of the cluster ({} servers)", selfId, current.size());
                        return current;
                    }
                    try (RaftClient c = newClient(cfg, RaftGroup.valueOf(groupId, current), tls)) {
                        check(c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
                                .setServersInNewConf(List.of(self.peer()))
                                .setMode(SetConfigurationRequest.Mode.ADD)
                                .build()));
                    }
                    List<RaftPeer> joined = Stream.concat(current.stream(), Stream.of(self.peer())).toList();
                    LOG.info("{}: joined the cluster via {}; servers now {}", selfId, seed,
                            joined.stream().map(p -> p.getId().toString()).toList());
                    return joined;
                } catch (IOException | RuntimeException e) {
                    last = e;
                    if (tlsFailure(e) != null) {
                        LOG.warn("{}: join via {} failed: TLS handshake: {}", selfId, seed, tlsFailure(e));
                    } else {
                        LOG.debug("{}: join via {} failed: {}", selfId, seed, e.toString());
                    }
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new StoreException("could not join the cluster via " + seeds + ": "
                        + (last == null ? "no answer" : last.getMessage()), last);
            }
            try {
                Thread.sleep(JOIN_RETRY_PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("interrupted while joining the cluster", e);
            }
        }
    }

    static RaftProperties serverProperties(RaftConfig cfg, Path raftDir, RaftAddress self) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
        // Transport: bind only the configured host; one port serves Raft, client and admin RPCs.
        GrpcConfigKeys.Server.setHost(p, self.host());
        GrpcConfigKeys.Server.setPort(p, self.port());
        GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(GRPC_MESSAGE_MAX_BYTES));
        // Elections: randomized timeout in [min, max]; heartbeats go out at min/2.
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(cfg.electionMin()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(cfg.electionMax()));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, millis(cfg.requestTimeout()));
        // Reads: linearizable reads on any member (followers use ReadIndex); the leader uses its lease.
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);
        RaftServerConfigKeys.Read.setTimeout(p, millis(cfg.requestTimeout()));
        // Snapshots: every snapshotEvery applied entries, keep two, then purge the log up to the snapshot
        // even if a follower is behind (it then gets the snapshot installed).
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, cfg.snapshotEvery());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, SNAPSHOT_RETENTION);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.max(1, Math.min(1024, cfg.snapshotEvery())));
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
        // A crash (kill -9, OOM kill) in the middle of a log write leaves a torn last entry in the open segment.
        // Ratis' default refuses to start on it ("Failed to initRaftLog", ChecksumException), so the member stayed
        // down until someone repaired its files. WARN_AND_RETURN truncates the open segment after its last whole
        // entry, as etcd repairs a torn WAL tail. That entry was never acknowledged (Ratis acknowledges after the
        // flush, and a flushed write cannot be torn by a crash of the process); the leader sends it again. The
        // policy applies to every segment: a damaged closed segment (a bad disk, not a crash) is cut too, and the
        // start then stops on the gap to the next segment (TornLogTailTest), unless it was the newest segment
        // (only between a roll and the next write). Limit documented in OPERATIONS.md.
        RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.WARN_AND_RETURN);
        // After failures, a leader's appender for a follower sleeps before retrying: Ratis' default climbs to 5 s
        // after 30 errors, which a few seconds of partition reach (several errors per attempt), and then the
        // follower stays behind for up to 5 s after the network heals (measured by the chaos tests). Retrying a
        // dead follower every 200 ms costs one refused connection.
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, APPENDER_RETRY_POLICY);
        // Log appender wait-time.min stays at Ratis' default (10 ms). Measured with bench/kv-vs-etcd.sh (45 s
        // warm-up, 2 cores): 0 ms gave PUT 388/s instead of 320/s on one connection, but 4,676/s instead of
        // 7,711/s at 64 connections, because appenders then send many small appendEntries and spin.
        // Log: segment size from the config; fsync on every flush (Ratis default, kept on purpose); entries up
        // to MAX_ENTRY_BYTES (the write buffer must hold one entry plus framing).
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(cfg.logSegmentBytes()));
        RaftServerConfigKeys.Log.setPreallocatedSize(p,
                SizeInBytes.valueOf(Math.min(4L * 1024 * 1024, cfg.logSegmentBytes())));
        RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES));
        RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(MAX_ENTRY_BYTES + 64 * 1024));
        return p;
    }

    /**
     * Ratis parameters carrying the TLS configuration (null without TLS). The key and trust managers delegate to
     * the credentials' current material, so a reload reaches every new connection without a restart. The JDK
     * TLS provider is used on purpose: Ratis' default (OpenSSL) would copy the key material once.
     */
    static Parameters parameters(TlsCredentials tls) {
        if (tls == null) {
            return null;
        }
        GrpcTlsConfig conf = GrpcTlsConfig.newBuilder()
                .setKeyManager(tls.keyManager())
                .setTrustManager(tls.trustManager(true))
                .setMutualTls(tls.settings().verifyIncoming())
                .setSslProvider(SslProvider.JDK)
                .build();
        Parameters p = new Parameters();
        GrpcConfigKeys.TLS.setConf(p, conf);
        return p;
    }

    /** The TLS reason of a failure (a handshake refused or failed), or null when it is not about TLS. */
    static String tlsFailure(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException) {
                return t.getClass().getSimpleName() + ": " + t.getMessage();
            }
            String m = String.valueOf(t.getMessage());
            if (m.contains("SSL") || m.contains("certificate") || m.contains("handshake")) {
                return m;
            }
        }
        return null;
    }

    private static RaftClient newClient(RaftConfig cfg, RaftGroup group, TlsCredentials tls) {
        return newClient(cfg, group, null, tls);
    }

    /** As {@link #newClient(RaftConfig, RaftGroup, TlsCredentials)}, sending first to {@code leader} when not null. */
    private static RaftClient newClient(RaftConfig cfg, RaftGroup group, RaftPeerId leader, TlsCredentials tls) {
        RaftProperties p = new RaftProperties();
        GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(GRPC_MESSAGE_MAX_BYTES));
        long attempt = Math.max(500, Math.min(3000, cfg.requestTimeout().toMillis() / 2));
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(attempt, TimeUnit.MILLISECONDS));
        // Many concurrent proposals are pipelined; beyond this many outstanding, send() blocks its caller.
        RaftClientConfigKeys.Async.setOutstandingRequestsMax(p, 1024);
        return RaftClient.newBuilder()
                .setProperties(p)
                .setParameters(parameters(tls))
                .setRaftGroup(group)
                .setLeaderId(leader)
                .setRetryPolicy(retryPolicy(cfg.requestTimeout()))
                .build();
    }

    /** A client without retries whose attempts give up after a third of the request timeout (0.5 to 2 s). */
    private static RaftClient newReadClient(RaftConfig cfg, RaftGroup group, TlsCredentials tls) {
        return newReadClient(cfg, group, null, tls);
    }

    private static RaftClient newReadClient(RaftConfig cfg, RaftGroup group, RaftPeerId leader, TlsCredentials tls) {
        RaftProperties p = new RaftProperties();
        long attempt = Math.max(500, Math.min(2000, cfg.requestTimeout().toMillis() / 3));
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(attempt, TimeUnit.MILLISECONDS));
        return RaftClient.newBuilder()
                .setProperties(p)
                .setParameters(parameters(tls))
                .setRaftGroup(group)
                .setLeaderId(leader)
                .setRetryPolicy(RetryPolicies.noRetry())
                .build();
    }

    /** Retries every 100 ms, but never past {@code timeout} after the request was created. */
    static RetryPolicy retryPolicy(Duration timeout) {
        RetryPolicy sleep = RetryPolicies.retryForeverWithSleep(millis(RETRY_SLEEP));
        RequestTypeDependentRetryPolicy.Builder b = RequestTypeDependentRetryPolicy.newBuilder();
        for (TypeCase t : TypeCase.values()) {
            b.setRetryPolicy(t, sleep).setTimeout(t, millis(timeout));
        }
        return b.build();
    }

    private static TimeDuration millis(Duration d) {
        return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("close failed: {}", e.toString());
        }
    }
}
