package dev.weft.net.control;

import dev.weft.kvstore.raft.RaftConfig;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.testing.Poll;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real single-member Raft store on 127.0.0.1 (a free port, data in the given directory), once it leads. */
public final class TestStore {
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private TestStore() {
    }

    public static RaftStore start(Path dir) {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RaftConfig cfg = RaftConfig.defaults("net-test", dir).withPort(port)
                .withJoin(List.of("127.0.0.1:" + port), 1);
        RaftStore store = RaftStore.start(cfg, new SimpleMeterRegistry());
        try {
            Poll.until(DEADLINE, () -> "the single member to lead", () -> store.status().isLeader());
        } catch (RuntimeException | Error e) {
            store.close();
            throw e;
        }
        return store;
    }

    /** {@code n} real members bootstrapping one cluster (like kvstore's RaftCluster), once one of them leads. */
    static List<RaftStore> startCluster(Path dir, int n) {
        List<ServerSocket> sockets = new ArrayList<>();
        List<String> addresses = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                sockets.add(s);
                addresses.add("127.0.0.1:" + s.getLocalPort());
            }
            for (ServerSocket s : sockets) {
                s.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<RaftStore> stores = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                RaftConfig cfg = RaftConfig.defaults("net-test" + i, dir.resolve("node" + i))
                        .withPort(Integer.parseInt(addresses.get(i).substring(addresses.get(i).indexOf(':') + 1)))
                        .withJoin(addresses, n);
                stores.add(RaftStore.start(cfg, new SimpleMeterRegistry()));
            }
            Poll.until(DEADLINE, () -> "a leader all members agree on", () -> {
                String leader = stores.get(0).status().leaderId();
                return leader != null && stores.stream().allMatch(s -> leader.equals(s.status().leaderId()));
            });
        } catch (RuntimeException | Error e) {
            stores.forEach(RaftStore::close);
            throw e;
        }
        return stores;
    }

    public static Inet4Address ip(String s) {
        return Ipv4Block.toInet(Ipv4Block.parseAddress(s));
    }
}
