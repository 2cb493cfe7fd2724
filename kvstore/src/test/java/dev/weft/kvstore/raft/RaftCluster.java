package dev.weft.kvstore.raft;

import dev.weft.kvstore.testing.Poll;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * An in-process cluster of real {@link RaftStore}s on 127.0.0.1 with ports chosen up front (Raft needs the full
 * address set before the first start) and one data directory per member. Members can be stopped and
 * restarted from their data directory.
 */
final class RaftCluster implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(20);

    private final List<RaftConfig> configs;
    private final RaftStore[] stores;
    private final Clock clock;
    final SimpleMeterRegistry[] registries;

    private RaftCluster(List<RaftConfig> configs, Clock clock) {
        this.configs = configs;
        this.stores = new RaftStore[configs.size()];
        this.registries = new SimpleMeterRegistry[configs.size()];
        this.clock = clock;
    }

    /** Starts {@code n} members that bootstrap one cluster together. */
    static RaftCluster start(Path baseDir, int n, UnaryOperator<RaftConfig> customize) {
        return start(baseDir, n, customize, Clock.systemUTC());
    }

    static RaftCluster start(Path baseDir, int n, UnaryOperator<RaftConfig> customize, Clock clock) {
        int[] ports = freePorts(n);
        List<String> addresses = new ArrayList<>();
        for (int port : ports) {
            addresses.add("127.0.0.1:" + port);
        }
        List<RaftConfig> configs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RaftConfig cfg = RaftConfig.defaults("node" + i, baseDir.resolve("node" + i))
                    .withPort(ports[i])
                    .withJoin(addresses, n);
            configs.add(customize.apply(cfg));
        }
        RaftCluster cluster = new RaftCluster(configs, clock);
        try {
            for (int i = 0; i < n; i++) {
                cluster.restart(i);
            }
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    int size() {
        return stores.length;
    }

    RaftConfig config(int i) {
        return configs.get(i);
    }

    RaftStore store(int i) {
        if (stores[i] == null) {
            throw new IllegalStateException("member " + i + " is stopped");
        }
        return stores[i];
    }

    boolean running(int i) {
        return stores[i] != null;
    }

    void stop(int i) {
        if (stores[i] != null) {
            stores[i].close();
            stores[i] = null;
        }
    }

    /** (Re)starts member {@code i} from its data directory. */
    RaftStore restart(int i) {
        stop(i);
        registries[i] = new SimpleMeterRegistry();
        stores[i] = RaftStore.start(configs.get(i), registries[i], clock);
        return stores[i];
    }

    int indexOf(RaftStore store) {
        for (int i = 0; i < stores.length; i++) {
            if (stores[i] == store) {
                return i;
            }
        }
        throw new IllegalArgumentException("not a member");
    }

    List<RaftStore> runningStores() {
        List<RaftStore> out = new ArrayList<>();
        for (RaftStore s : stores) {
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** Waits until exactly one running member is the leader and all running members agree on it. */
    RaftStore awaitLeader() {
        AtomicReference<RaftStore> leader = new AtomicReference<>();
        await(DEADLINE, () -> {
            RaftStore found = null;
            for (RaftStore s : runningStores()) {
                if (s.status().isLeader()) {
                    if (found != null) {
                        return false;
                    }
                    found = s;
                }
            }
            if (found == null) {
                return false;
            }
            String id = found.selfId();
            for (RaftStore s : runningStores()) {
                if (!id.equals(s.status().leaderId())) {
                    return false;
                }
            }
            leader.set(found);
            return true;
        }, () -> "a single leader among " + runningStores().stream().map(RaftStore::status).toList());
        return leader.get();
    }

    @Override
    public void close() {
        for (int i = 0; i < stores.length; i++) {
            try {
                stop(i);
            } catch (RuntimeException e) {
                // keep closing the others
            }
        }
    }

    /** Polls {@code condition} until it holds or {@code timeout} passes (then fails); see {@link Poll}. */
    static void await(Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        Poll.until(timeout, what, condition::getAsBoolean);
    }

    static int[] freePorts(int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                s.setReuseAddress(true);
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }
}
