package dev.weft.kvstore.raft;

import dev.weft.kvstore.AppliedWaiters;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.codec.CommandCodec;
import dev.weft.kvstore.feed.ChangeFeed;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.KvState;
import dev.weft.kvstore.state.StateCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotResult;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftConfigurationProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The Ratis adapter around the deterministic {@link KvState}: decodes committed log entries with
 * {@link CommandCodec}, applies them under the write lock, fires {@link Watches} and answers the encoded
 * {@link dev.weft.kvstore.state.Result}. Reads of the local view take the read lock of the same lock.
 *
 * <p>Snapshots are one file per (term, index) in Ratis' {@link SimpleStateMachineStorage} layout
 * ({@code sm/snapshot.<term>_<index>} plus {@code .md5}), written atomically (temporary file, fsync, rename),
 * so Ratis' default file-based snapshot install to lagging followers works unchanged. The file body is
 * {@link StateCodec}'s format, which carries its own CRC on top of the MD5.
 *
 * <p>Queries ({@link #query}) serve only as read barriers: they answer the index of the last applied command.
 *
 * <p>An entry that cannot be decoded or applied means a corrupt log or members of incompatible versions;
 * skipping it would let members diverge, so apply fails and Ratis stops this member (fail-stop).
 *
 * <p>Metrics: {@code weft.raft.apply} (timer), {@code weft.raft.snapshots} (counter, tag {@code kind} =
 * {@code taken} or {@code installed}),
 * gauges {@code weft.raft.applied.index}, {@code weft.kv.keys}, {@code weft.kv.bytes}.
 */
public final class WeftStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(WeftStateMachine.class);
    private static final String TMP_SUFFIX = ".tmp";

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Watches watches;
    private final MeterRegistry registry;
    private final Timer applyTimer;
    private final Counter snapshotsTaken;
    private final Counter snapshotsInstalled;
    private final List<Meter> meters = new ArrayList<>();
    /**
     * Recent commands for client agents' read views; appended and reset under the write lock. Its entry bound
     * can be lowered with {@code -Dweft.feed.max-entries=N} (tests use it to make clients catch up by snapshot).
     */
    private final ChangeFeed feed = new ChangeFeed(Integer.getInteger("weft.feed.max-entries",
            ChangeFeed.DEFAULT_MAX_ENTRIES), ChangeFeed.DEFAULT_MAX_BYTES);

    /** Replaced (under the write lock) when a snapshot is loaded; mutated only by apply, under the write lock. */
    private volatile KvState state = new KvState();
    /** {@code state.catalog().catalogIndex()}, published after every apply for lock-free change checks (DNS). */
    private volatile long catalogIndex;
    private volatile Consumer<RaftPeerId> leaderListener = id -> { };
    /** Read barriers waiting for the applied index (Raft configuration entries included). */
    private final AppliedWaiters appliedWaiters = new AppliedWaiters(this::appliedIndex);

    public WeftStateMachine(Watches watches, MeterRegistry registry) {
        this.watches = watches;
        this.registry = registry;
        this.applyTimer = Timer.builder("weft.raft.apply")
                .description("Time to apply one committed command to the local state")
                .register(registry);
        this.snapshotsTaken = Counter.builder("weft.raft.snapshots")
                .description("Raft snapshots taken by this member or installed from the leader")
                .tag("kind", "taken")
                .register(registry);
        this.snapshotsInstalled = Counter.builder("weft.raft.snapshots")
                .description("Raft snapshots taken by this member or installed from the leader")
                .tag("kind", "installed")
                .register(registry);
        meters.add(applyTimer);
        meters.add(snapshotsTaken);
        meters.add(snapshotsInstalled);
        meters.add(Gauge.builder("weft.raft.applied.index", this, WeftStateMachine::appliedIndex)
                .description("Highest Raft log index applied to the local state")
                .register(registry));
        meters.add(Gauge.builder("weft.kv.keys", this, sm -> sm.read(KvReadView::kvCount))
                .description("Number of KV entries")
                .register(registry));
        meters.add(Gauge.builder("weft.kv.bytes", this, sm -> sm.read(KvReadView::kvValueBytes))
                .description("Total bytes of KV values")
                .baseUnit("bytes")
                .register(registry));
        meters.add(Gauge.builder("weft.catalog.nodes", this, sm -> sm.read(v -> v.catalog().nodeCount()))
                .description("Nodes in the catalog")
                .register(registry));
        meters.add(Gauge.builder("weft.catalog.services", this, sm -> sm.read(v -> v.catalog().serviceCount()))
                .description("Service instances in the catalog")
                .register(registry));
        meters.add(Gauge.builder("weft.catalog.checks", this, sm -> sm.read(v -> v.catalog().checkCount()))
                .description("Health checks in the catalog")
                .register(registry));
    }

    /** Runs {@code reader} on the local view under the read lock. Never blocks on the network. */
    public <T> T read(Function<KvReadView, T> reader) {
        lock.readLock().lock();
        try {
            return reader.apply(state);
        } finally {
            lock.readLock().unlock();
        }
    }

    public Watches watches() {
        return watches;
    }

    /** The recent committed commands, for client agents (see {@link ChangeFeed}). */
    public ChangeFeed feed() {
        return feed;
    }

    /**
     * Completes once this member has applied {@code index} (including Raft configuration and metadata
     * entries). Completes on the applying thread; callers hand heavy work off. A caller that gives up should
     * cancel or fail the returned future, which removes it.
     */
    public CompletableFuture<Void> awaitApplied(long index) {
        return appliedWaiters.await(index);
    }

    private void completeWaiters() {
        appliedWaiters.complete();
    }

    /** Raft configuration and metadata entries only move the applied index. */
    @Override
    public void notifyTermIndexUpdated(long term, long index) {
        super.notifyTermIndexUpdated(term, index);
        completeWaiters();
    }

    /** Highest log index applied (including Raft configuration entries), -1 before anything. */
    /** The catalog's index ({@code CatalogView.catalogIndex()}) without taking the read lock. */
    public long catalogIndex() {
        return catalogIndex;
    }

    public long appliedIndex() {
        TermIndex ti = getLastAppliedTermIndex();
        return ti == null ? -1 : ti.getIndex();
    }

    // ---- lifecycle ---------------------------------------------------------------------------------------

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        getLifeCycle().startAndTransition(() -> {
            super.initialize(server, groupId, raftStorage);
            storage.init(raftStorage);
            SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
            if (latest != null) {
                load(latest);
                LOG.info("{}: loaded snapshot {} at start", server.getId(), latest.getTermIndex());
            }
        }, IOException.class);
    }

    /** Called by Ratis before it installs a snapshot from the leader; {@link #reinitialize} resumes. */
    @Override
    public void pause() {
        if (getLifeCycle().compareAndTransition(LifeCycle.State.RUNNING, LifeCycle.State.PAUSING)) {
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /** Called by Ratis after it installed a snapshot from the leader into the state machine directory. */
    @Override
    public void reinitialize() throws IOException {
        SingleFileSnapshotInfo latest = storage.loadLatestSnapshot();
        if (latest == null) {
            LOG.warn("{}: reinitialize without a snapshot; keeping the current state", getId());
        } else {
            KvState previous = load(latest);
            snapshotsInstalled.increment();
            LOG.info("{}: installed snapshot {} from the leader", getId(), latest.getTermIndex());
            fireAll(previous, latest.getIndex());
            completeWaiters();
        }
        if (getLifeCycle().compareAndTransition(LifeCycle.State.PAUSED, LifeCycle.State.STARTING)) {
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public void close() throws IOException {
        getLifeCycle().checkStateAndClose();
        synchronized (meters) {
            meters.forEach(registry::remove);
            meters.clear();
        }
    }

    // ---- apply and query ---------------------------------------------------------------------------------

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        long start = System.nanoTime();
        Command command;
        byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
        try {
            command = CommandCodec.decode(data);
        } catch (RuntimeException e) {
            LOG.error("{}: cannot decode log entry {}; stopping this member", getId(), index, e);
            throw new IllegalStateException("undecodable log entry at index " + index, e);
        }
        Applied applied;
        lock.writeLock().lock();
        try {
            applied = state.apply(index, command);
            feed.append(index, data, quiet(command));
            if (!applied.catalogTopics().isEmpty()) {
                catalogIndex = state.catalog().catalogIndex();
            }
            updateLastAppliedTermIndex(entry.getTerm(), index);
        } catch (RuntimeException e) {
            LOG.error("{}: cannot apply log entry {}; stopping this member", getId(), index, e);
            throw e;
        } finally {
            lock.writeLock().unlock();
        }
        applyTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        completeWaiters();
        fire(applied);
        return CompletableFuture.completedFuture(
                Message.valueOf(ByteString.copyFrom(CommandCodec.encodeResult(applied.result()))));
    }

    /**
     * Read barrier support: answers the log index of the last command applied to this member's state (8 bytes,
     * big-endian). Every write acknowledged before a linearizable read is at or below it on the leader, and a
     * member whose applied index reaches it sees all those writes. Raft configuration and metadata entries are
     * left out on purpose: a follower learns that they are committed only with the next heartbeat.
     */
    @Override
    public CompletableFuture<Message> query(Message request) {
        ByteBuffer b = ByteBuffer.allocate(Long.BYTES).putLong(0, read(KvReadView::lastIndex));
        return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(b)));
    }

    /** Agent heartbeats (alone or batched together) change nothing that client agents read or wait for. */
    static boolean quiet(Command command) {
        if (command instanceof Command.NodeHeartbeat) {
            return true;
        }
        if (command instanceof Command.Batch b && !b.commands().isEmpty()) {
            for (Command c : b.commands()) {
                if (!(c instanceof Command.NodeHeartbeat)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    private void fire(Applied applied) {
        try {
            watches.fire(applied);
        } catch (RuntimeException e) {
            LOG.warn("{}: a watch callback failed at index {}", getId(), applied.index(), e);
        }
    }

    /** After the whole state was replaced, wake every watch on a key or topic that exists before or after. */
    private void fireAll(KvState previous, long index) {
        fire(read(now -> Watches.everythingChanged(previous, now, index)));
    }

    // ---- snapshots ---------------------------------------------------------------------------------------

    @Override
    public long takeSnapshot() throws IOException {
        long startNanos = System.nanoTime();
        TermIndex last;
        File target;
        File tmp;
        MD5Hash md5;
        int keys;
        lock.readLock().lock();
        try {
            last = getLastAppliedTermIndex();
            if (last == null || last.getIndex() < 0) {
                return RaftLog.INVALID_LOG_INDEX;
            }
            target = storage.getSnapshotFile(last.getTerm(), last.getIndex());
            if (target.exists()) {
                return last.getIndex();
            }
            tmp = new File(target.getParentFile(), target.getName() + TMP_SUFFIX);
            MessageDigest digest = MD5FileUtil.newMD5();
            try (OutputStream out = new DigestOutputStream(
                    new BufferedOutputStream(Files.newOutputStream(tmp.toPath())), digest)) {
                StateCodec.write(state, out);
            }
            md5 = MD5Hash.newInstance(digest.digest());
            keys = state.kvCount();
        } finally {
            lock.readLock().unlock();
        }
        // Durable before visible: data, then its digest, then the rename that publishes both.
        fsync(tmp.toPath());
        MD5FileUtil.saveMD5File(target, md5);
        move(tmp.toPath(), target.toPath());
        fsync(target.toPath().getParent());
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), last));
        snapshotsTaken.increment();
        LOG.info("{}: snapshot taken at {} ({} keys, {} bytes, {} ms)", getId(), last, keys, target.length(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        return last.getIndex();
    }

    /** Loads a snapshot file and swaps it in as the state; returns the state it replaced. */
    private KvState load(SingleFileSnapshotInfo snapshot) throws IOException {
        Path path = snapshot.getFile().getPath();
        MD5Hash expected = snapshot.getFile().getFileDigest();
        if (expected != null) {
            MD5FileUtil.verifySavedMD5(path.toFile(), expected);
        }
        KvState loaded;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
            loaded = StateCodec.read(in);
        }
        TermIndex ti = snapshot.getTermIndex();
        if (loaded.lastIndex() > ti.getIndex()) {
            throw new IOException("snapshot " + path + " holds index " + loaded.lastIndex()
                    + " beyond its name's " + ti.getIndex());
        }
        KvState previous;
        lock.writeLock().lock();
        try {
            previous = state;
            state = loaded;
            catalogIndex = loaded.catalog().catalogIndex();
            feed.reset(loaded.lastIndex());
            setLastAppliedTermIndex(ti);
        } finally {
            lock.writeLock().unlock();
        }
        return previous;
    }

    private static void fsync(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                ch.force(true);
            } catch (IOException e) {
                LOG.debug("directory fsync not supported for {}: {}", path, e.toString());
            }
            return;
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---- events (logging only; one line each) -----------------------------------------------------------

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId memberId, RaftPeerId newLeaderId) {
        LOG.info("{}: leader is now {}", memberId.getPeerId(), newLeaderId);
        try {
            leaderListener.accept(newLeaderId);
        } catch (RuntimeException e) {
            LOG.warn("{}: leader change listener failed", memberId.getPeerId(), e);
        }
    }

    /** Called with the new leader's ID (null while there is none) on Ratis' thread: must not block. */
    void onLeaderChanged(Consumer<RaftPeerId> listener) {
        this.leaderListener = Objects.requireNonNull(listener, "listener");
    }

    @Override
    public void notifyLeaderReady() {
        LOG.info("{}: leader ready (term entries committed)", getId());
    }

    @Override
    public void notifyConfigurationChanged(long term, long index, RaftConfigurationProto conf) {
        LOG.info("{}: Raft configuration at index {}: {}", getId(), index, conf.getPeersList().stream()
                .map(p -> p.getId().toStringUtf8() + "@" + p.getAddress()).collect(Collectors.joining(", ")));
    }

    @Override
    public void notifySnapshotInstalled(InstallSnapshotResult result, long snapshotIndex, RaftPeer peer) {
        LOG.info("{}: snapshot install on {} at index {}: {}", getId(), peer == null ? "?" : peer.getId(),
                snapshotIndex, result);
    }
}
