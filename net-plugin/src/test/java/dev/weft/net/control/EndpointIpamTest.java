package dev.weft.net.control;

import dev.weft.kvstore.raft.RaftStore;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Inet4Address;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Endpoint addresses in a real single-member Raft store; each test uses its own network. */
class EndpointIpamTest {
    @TempDir
    static Path dir;
    private static RaftStore store;
    private static NetworkRegistry registry;
    private static LeaseKeeper h1;
    private static LeaseKeeper h2;
    private static EndpointIpam ipam;
    private static EndpointIpam ipam2;

    @BeforeAll
    static void start() {
        store = TestStore.start(dir.resolve("raft"));
        ControlSettings settings = ControlSettings.defaults();
        registry = new NetworkRegistry(store, settings);
        h1 = new LeaseKeeper(store, settings, "h1", "id-h1", TestStore.ip("192.0.2.1"), dir.resolve("h1-session"));
        h2 = new LeaseKeeper(store, settings, "h2", "id-h2", TestStore.ip("192.0.2.2"), dir.resolve("h2-session"));
        h1.start();
        h2.start();
        ipam = new EndpointIpam(store, h1, settings);
        ipam2 = new EndpointIpam(store, h2, settings);
    }

    @AfterAll
    static void stop() {
        h1.close();
        h2.close();
        store.close();
    }

    private static int a(Inet4Address ip) {
        return Ipv4Block.toInt(ip);
    }

    private static int a(String ip) {
        return Ipv4Block.parseAddress(ip);
    }

    @Test
    void bindGivesAnAllocatedAddressItsRealIdAndRefusesOtherHostsAddresses() {
        registry.create(NetworkRequest.named("bind"));
        Endpoint placeholder = ipam.allocate("bind", "ipam-1", "ipam-1");
        Endpoint bound = ipam.bind("bind", placeholder.ip(), "docker-ep", "docker-ep", null);
        assertEquals(new Endpoint("bind", "docker-ep", "docker-ep", "h1", placeholder.ip(), placeholder.mac()), bound);
        assertEquals(List.of(bound), ipam.endpoints("bind"));
        assertEquals(bound, ipam.bind("bind", placeholder.ip(), "docker-ep", "docker-ep", null), "an ensure");
        dev.weft.net.netlink.MacAddress mac = dev.weft.net.netlink.MacAddress.parse("02:42:00:00:00:99");
        assertEquals(mac, ipam.bind("bind", placeholder.ip(), "docker-ep", "docker-ep", mac).mac());
        assertTrue(ipam.find("bind", "ipam-1").isEmpty());
        assertThrows(IllegalArgumentException.class,
                () -> ipam2.bind("bind", placeholder.ip(), "other", "other", null), "another host's address");
        assertThrows(IllegalArgumentException.class,
                () -> ipam.bind("bind", TestStore.ip("10.255.255.1"), "x", "x", null), "no such endpoint");
        assertTrue(ipam.release("bind", "docker-ep"));
        assertEquals(List.of(), ipam.endpoints("bind"));
    }

    @Test
    void concurrentAllocationsGetUniqueAddressesInsideTheSubnet() throws Exception {
        registry.create(NetworkRequest.named("conc"));
        HostLease lease = h1.lease("conc");
        Ipv4Block subnet = Ipv4Block.of(lease.subnet());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Endpoint> got = new ArrayList<>();
        try {
            List<Callable<Endpoint>> tasks = new ArrayList<>();
            for (int i = 0; i < 160; i++) {
                String id = "ep" + i;
                tasks.add(() -> ipam.allocate("conc", id, "c" + id));
            }
            for (Future<Endpoint> f : pool.invokeAll(tasks)) {
                got.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        Set<Integer> ips = new HashSet<>();
        for (Endpoint e : got) {
            assertTrue(subnet.isEndpointAddress(a(e.ip())), e + " in " + subnet);
            assertEquals(EndpointIpam.macOf(a(e.ip())), e.mac());
            assertEquals("h1", e.host());
            ips.add(a(e.ip()));
        }
        assertEquals(160, ips.size(), "no address given twice");
        Set<Integer> lowest = new HashSet<>();
        for (int i = 0; i < 160; i++) {
            lowest.add(subnet.base() + 2 + i);
        }
        assertEquals(lowest, ips, "the lowest 160 addresses after the gateway");
        assertEquals(Set.copyOf(got), Set.copyOf(ipam.endpoints("conc")));
        for (Endpoint e : got) {
            assertTrue(ipam.release("conc", e.id()));
        }
        assertEquals(List.of(), store.read(v -> v.keys(Keys.endpoints("conc"), "")));
    }

    @Test
    void releaseFreesAndAllocateIsEnsure() {
        registry.create(NetworkRequest.named("rel"));
        Ipv4Block subnet = Ipv4Block.of(h1.lease("rel").subnet());
        Endpoint e1 = ipam.allocate("rel", "e1", "c1");
        Endpoint e2 = ipam.allocate("rel", "e2", "c2");
        Endpoint e3 = ipam.allocate("rel", "e3", "c3");
        assertEquals(List.of(subnet.base() + 2, subnet.base() + 3, subnet.base() + 4),
                List.of(a(e1.ip()), a(e2.ip()), a(e3.ip())));
        assertEquals(e2, ipam.allocate("rel", "e2", "c2"), "an existing endpoint is returned as it is");
        assertThrows(IllegalArgumentException.class, () -> ipam.allocate("rel", "e2", "other-container"));
        assertEquals(e3, ipam.find("e3").orElseThrow());
        assertEquals(e3, new ControlView(store).endpoint("e3").orElseThrow());

        assertTrue(ipam.release("rel", "e2"));
        assertFalse(ipam.release("rel", "e2"), "release is idempotent");
        assertTrue(ipam.find("e2").isEmpty());
        Endpoint e4 = ipam.allocate("rel", "e4", "c4");
        assertEquals(e2.ip(), e4.ip(), "the freed address is the lowest free one again");

        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ipam.allocate("nope", "e9", "c9"));
        assertEquals("unknown network 'nope'", unknown.getMessage());

        IllegalStateException busy = assertThrows(IllegalStateException.class, () -> registry.delete("rel"));
        assertEquals("network 'rel' still has 3 endpoint(s)", busy.getMessage());
        for (String id : List.of("e1", "e3", "e4")) {
            ipam.release("rel", id);
        }
        assertTrue(registry.delete("rel"));
    }

    @Test
    void aFullSubnetSaysSo() {
        registry.create(NetworkRequest.named("tiny").withCidr("10.77.0.0/24").withSubnetLength(29));
        for (int i = 0; i < 5; i++) {
            ipam.allocate("tiny", "t" + i, "ct" + i);
        }
        PoolExhaustedException full = assertThrows(PoolExhaustedException.class,
                () -> ipam.allocate("tiny", "t5", "ct5"));
        assertEquals("no free address in 10.77.0.0/29 (network 'tiny', host h1): all 5 are in use", full.getMessage());
        assertEquals(Set.of(a("10.77.0.2"), a("10.77.0.3"), a("10.77.0.4"), a("10.77.0.5"), a("10.77.0.6")),
                Set.copyOf(ipam.endpoints("tiny").stream().map(e -> a(e.ip())).toList()));
    }

    @Test
    void aThousandCreateDeleteCyclesLeaveNothingAndReuseAddresses() {
        registry.create(NetworkRequest.named("cycles"));
        Ipv4Block subnet = Ipv4Block.of(h1.lease("cycles").subnet());
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            Endpoint e = ipam.allocate("cycles", "cy" + i, "container-" + i);
            used.add(a(e.ip()));
            assertTrue(ipam.release("cycles", e.id()));
        }
        assertEquals(Set.of(subnet.base() + 2), used, "every cycle got the first endpoint address back");
        assertEquals(List.of(), store.read(v -> v.keys(Keys.endpoints("cycles"), "")));
        assertEquals(List.of(), ipam.endpoints("cycles"));
    }

    @Test
    void garbageCollectionRemovesThisHostsEndpointsOfDeadContainers() {
        registry.create(NetworkRequest.named("gc"));
        registry.create(NetworkRequest.named("gc2"));
        for (String c : List.of("c1", "c2", "c3", "c4")) {
            ipam.allocate("gc", "ep-" + c, c);
        }
        ipam.allocate("gc2", "ep-c5", "c5");
        Endpoint other = ipam2.allocate("gc", "ep-x", "c-on-h2");
        Set<String> alive = Set.of("c1", "c3");
        List<Endpoint> removed = new ArrayList<>(ipam.collectGarbage(alive::contains));
        removed.removeIf(e -> !e.network().startsWith("gc"));
        assertEquals(Set.of("ep-c2", "ep-c4", "ep-c5"), Set.copyOf(removed.stream().map(Endpoint::id).toList()));
        assertEquals(Set.of("ep-c1", "ep-c3", "ep-x"),
                Set.copyOf(ipam.endpoints("gc").stream().map(Endpoint::id).toList()));
        assertEquals(other, ipam.find("ep-x").orElseThrow(), "another host's endpoints are its own business");
        assertEquals(List.of(), ipam.endpoints("gc2"));
    }

    @Test
    void aGoneHostsEndpointsGoWithItsSessionAndItsSubnetIsTakenOverClean() {
        registry.create(NetworkRequest.named("takeover"));
        ControlSettings settings = ControlSettings.defaults();
        LeaseKeeper gone = new LeaseKeeper(store, settings, "h9", "id-h9", TestStore.ip("192.0.2.9"),
                dir.resolve("h9-session"));
        gone.start();
        HostLease old = gone.lease("takeover");
        new EndpointIpam(store, gone, settings).allocate("takeover", "stale", "c-stale");
        assertEquals(1, ipam.endpoints("takeover").size());
        gone.leave(); // its session ends: its lease and its endpoints' addresses go in the same entry
        assertEquals(List.of(), ipam.endpoints("takeover"));

        HostLease mine = h1.lease("takeover");
        assertEquals(old.subnet(), mine.subnet(), "the first free subnet is the one h9 held");
        assertEquals(List.of(), ipam.endpoints("takeover"));
        assertEquals(Ipv4Block.toInt(mine.subnet().address()) + 2, a(ipam.allocate("takeover", "fresh", "c-fresh").ip()));
    }
}
