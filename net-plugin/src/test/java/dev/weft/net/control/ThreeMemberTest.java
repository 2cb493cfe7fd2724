package dev.weft.net.control;

import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.testing.Poll;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hosts on different members of a 3-server cluster: each host's keeper and IPAM talk to its own member (most of
 * them followers), so writes go through the leader and reads come from lagging local views.
 */
class ThreeMemberTest {
    @TempDir
    Path dir;
    private List<RaftStore> members;
    private final List<LeaseKeeper> keepers = new ArrayList<>();

    @BeforeEach
    void start() {
        members = TestStore.startCluster(dir, 3);
    }

    @AfterEach
    void stop() {
        keepers.forEach(LeaseKeeper::close);
        members.forEach(RaftStore::close);
    }

    private LeaseKeeper host(int member, String name) {
        LeaseKeeper k = new LeaseKeeper(members.get(member), ControlSettings.defaults(), name, "id-" + name,
                TestStore.ip("192.0.2." + (member + 1)), dir.resolve(name + "-session"));
        keepers.add(k);
        k.start();
        return k;
    }

    @Test
    void aLeaseTakenThroughOneMemberWakesTheWatchOfAnother() {
        new NetworkRegistry(members.get(1), ControlSettings.defaults()).create(NetworkRequest.named("blue"));
        ControlView remoteView = new ControlView(members.get(2));
        Poll.until(Duration.ofSeconds(10), () -> "member 2 to see the network", () -> remoteView.network("blue")
                .isPresent());
        AtomicInteger fired = new AtomicInteger();
        ControlView.Subscription sub = remoteView.onLeasesChanged("blue", fired::incrementAndGet);
        try {
            HostLease a = host(0, "a").lease("blue");
            Poll.until(Duration.ofSeconds(10), () -> "member 2's watch to fire for a's lease",
                    () -> fired.get() >= 1 && remoteView.leases("blue").contains(a));
            HostLease b = host(1, "b").lease("blue");
            Poll.until(Duration.ofSeconds(10), () -> "member 2's watch to fire again for b's lease",
                    () -> fired.get() >= 2 && remoteView.leases("blue").contains(b));
            assertEquals(Set.of(a, b), Set.copyOf(remoteView.leases("blue")));
        } finally {
            sub.close();
        }
    }

    @Test
    void hostsOnDifferentMembersNeverShareASubnetOrAnAddress() throws Exception {
        new NetworkRegistry(members.get(0), ControlSettings.defaults())
                .create(NetworkRequest.named("net").withCidr("10.50.0.0/16").withSubnetLength(24));
        List<EndpointIpam> ipams = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LeaseKeeper k = host(i, "h" + i);
            ipams.add(new EndpointIpam(members.get(i), k, ControlSettings.defaults()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Endpoint> got = new ArrayList<>();
        try {
            List<Callable<Endpoint>> tasks = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                EndpointIpam ipam = ipams.get(i % 3);
                String id = "e" + i;
                tasks.add(() -> ipam.allocate("net", id, "c" + id));
            }
            for (Future<Endpoint> f : pool.invokeAll(tasks)) {
                got.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        Set<String> subnets = new HashSet<>();
        for (LeaseKeeper k : keepers) {
            subnets.add(k.current("net").orElseThrow().subnet().toString());
        }
        assertEquals(3, subnets.size(), "one subnet per host: " + subnets);
        Set<Integer> ips = new HashSet<>();
        for (Endpoint e : got) {
            HostLease lease = keepers.stream().filter(k -> k.host().equals(e.host())).findFirst().orElseThrow()
                    .current("net").orElseThrow();
            assertTrue(Ipv4Block.of(lease.subnet()).isEndpointAddress(Ipv4Block.toInt(e.ip())), e.toString());
            ips.add(Ipv4Block.toInt(e.ip()));
        }
        assertEquals(30, ips.size(), "no address twice: " + got);
        ControlView view0 = new ControlView(members.get(0));
        Poll.until(Duration.ofSeconds(10), () -> "every member to hold the 30 endpoints",
                () -> members.stream().allMatch(m -> new ControlView(m).endpoints("net").size() == 30));
        assertEquals(Set.copyOf(got), Set.copyOf(view0.endpoints("net")));
    }
}
