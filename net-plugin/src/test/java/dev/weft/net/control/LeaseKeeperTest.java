package dev.weft.net.control;

import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.testing.Poll;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host leases in a real single-member Raft store; each {@link LeaseKeeper} plays one host. */
class LeaseKeeperTest {
    @TempDir
    Path dir;
    private RaftStore store;
    private NetworkRegistry registry;
    private ControlView view;
    private final List<LeaseKeeper> keepers = new ArrayList<>();
    private ControlSettings settings = ControlSettings.defaults();

    @BeforeEach
    void start() {
        store = TestStore.start(dir.resolve("raft"));
        registry = new NetworkRegistry(store, settings);
        view = new ControlView(store);
    }

    @AfterEach
    void stop() {
        keepers.forEach(LeaseKeeper::close);
        store.close();
    }

    private LeaseKeeper keeper(String host) {
        int n = Integer.parseInt(host.replaceAll("\\D", "0")) % 200 + 1;
        LeaseKeeper k = new LeaseKeeper(store, settings, host, "id-" + host, TestStore.ip("192.0.2." + n),
                dir.resolve(host).resolve("net-session"));
        keepers.add(k);
        return k;
    }

    private LeaseKeeper started(String host) {
        LeaseKeeper k = keeper(host);
        k.start();
        return k;
    }

    @Test
    void leasesAreUniqueAcrossHosts() throws Exception {
        Network blue = registry.create(NetworkRequest.named("blue"));
        List<LeaseKeeper> hosts = new ArrayList<>();
        for (int i = 1; i <= 6; i++) {
            hosts.add(started("h" + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<HostLease> leases = new ArrayList<>();
        try {
            List<Callable<HostLease>> tasks = new ArrayList<>();
            for (LeaseKeeper k : hosts) {
                tasks.add(() -> k.lease("blue"));
            }
            for (Future<HostLease> f : pool.invokeAll(tasks)) {
                leases.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        Set<String> subnets = new HashSet<>();
        for (HostLease l : leases) {
            subnets.add(l.subnet().toString());
            assertTrue(Ipv4Block.of(blue.cidr()).contains(Ipv4Block.of(l.subnet())), l.toString());
            assertEquals(24, l.subnet().length());
            assertEquals(HostLease.vtepMac("id-" + l.host(), blue.id()), l.vtepMac());
        }
        assertEquals(6, subnets.size(), "distinct subnets: " + leases);
        assertEquals(Set.of("10.192.0.0/24", "10.192.1.0/24", "10.192.2.0/24", "10.192.3.0/24", "10.192.4.0/24",
                "10.192.5.0/24"), subnets, "the first free subnets");
        assertEquals(Set.copyOf(leases), Set.copyOf(view.leases("blue")));
        for (LeaseKeeper k : hosts) {
            HostLease mine = k.current("blue").orElseThrow();
            assertEquals(mine, k.lease("blue"), "lease() is ensure: it returns the lease held");
            assertEquals(k.host(), mine.host());
        }
        KvEntry e = store.read(v -> v.get("_weft/net/leases/blue/10.192.0.0"));
        assertTrue(hosts.stream().anyMatch(k -> k.sessionId().equals(e.session())), "locked by a host's session");
    }

    @Test
    void badInputAndExhaustion() {
        registry.create(NetworkRequest.named("small").withCidr("10.9.0.0/22"));
        List<LeaseKeeper> hosts = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            hosts.add(started("s" + i));
        }
        for (int i = 0; i < 4; i++) {
            hosts.get(i).lease("small");
        }
        PoolExhaustedException full = assertThrows(PoolExhaustedException.class, () -> hosts.get(4).lease("small"));
        assertEquals("network 'small' (10.9.0.0/22): all 4 subnets of /24 are leased", full.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> hosts.get(0).lease("nope"));
        assertEquals("unknown network 'nope'", unknown.getMessage());
        assertThrows(IllegalStateException.class, () -> keeper("x9").lease("small"), "not started");
    }

    @Test
    void aRestartedHostKeepsItsSubnet() {
        registry.create(NetworkRequest.named("blue"));
        LeaseKeeper other = started("h1");
        other.lease("blue");
        LeaseKeeper a = started("h2");
        HostLease before = a.lease("blue");
        String session = a.sessionId();
        a.close(); // a crash or a restart: nothing is released
        assertTrue(Files.exists(dir.resolve("h2").resolve("net-session")));

        LeaseKeeper restarted = keeper("h2");
        assertEquals(List.of(before), restarted.start(), "the session file's networks are leased again at start");
        assertEquals(session, restarted.sessionId(), "the session was renewed, not replaced");
        assertEquals(before, restarted.lease("blue"));
        assertEquals(2, view.leases("blue").size());
    }

    @Test
    void anExpiredSessionFreesItsLeasesAndARestartAsksForTheSameSubnetFirst() {
        settings = ControlSettings.defaults().withSessionTtl(Duration.ofSeconds(10)); // the store's minimum
        registry.create(NetworkRequest.named("blue"));
        LeaseKeeper live = started("h1");
        HostLease liveLease = live.lease("blue");                 // 10.192.0.0/24
        LeaseKeeper passing = started("h2");
        passing.lease("blue");                                    // 10.192.1.0/24
        LeaseKeeper dead = started("h3");
        HostLease deadLease = dead.lease("blue");                 // 10.192.2.0/24
        String deadSession = dead.sessionId();
        passing.leave();                                          // 10.192.1.0/24 is the first free subnet now
        dead.close();                                             // stops renewing, as a crashed host does

        Poll.until(Duration.ofSeconds(40), () -> "h3's session to expire and its lease to go",
                () -> store.read(v -> v.session(deadSession)) == null
                        && view.leases("blue").stream().noneMatch(l -> l.host().equals("h3")));
        assertEquals(List.of(liveLease), view.leases("blue"), "h1 renewed its session and kept its lease");

        LeaseKeeper back = keeper("h3");
        back.start();
        assertNotEquals(deadSession, back.sessionId());
        assertEquals(deadLease, back.current("blue").orElseThrow(), "the subnet held before, not the first free");
    }

    @Test
    void cleanLeaveAndReleaseDeleteLeases() throws Exception {
        registry.create(NetworkRequest.named("blue"));
        registry.create(NetworkRequest.named("red"));
        LeaseKeeper a = started("h1");
        LeaseKeeper b = started("h2");
        a.lease("blue");
        a.lease("red");
        HostLease bBlue = b.lease("blue");
        b.lease("red");

        assertTrue(b.release("red"));
        assertFalse(b.release("red"));
        assertEquals(List.of("h1"), view.leases("red").stream().map(HostLease::host).toList());

        String session = a.sessionId();
        a.leave();
        assertEquals(List.of(bBlue), view.leases("blue"), "h1's leases went with its session, in one command");
        assertEquals(List.of(), view.leases("red"));
        assertNull(store.read(v -> v.session(session)));
        assertFalse(Files.exists(dir.resolve("h1").resolve("net-session")));
        assertThrows(IllegalStateException.class, () -> a.lease("blue"));

        // Deleting a network deletes its leases with it.
        assertTrue(registry.delete("blue"));
        assertEquals(List.of(), store.read(v -> v.keys("_weft/net/leases/blue/", "")));
    }

    @Test
    void theRenewLoopTakesBackALeaseThatWentMissing() {
        registry.create(NetworkRequest.named("blue"));
        LeaseKeeper a = started("h1");
        started("h2").lease("blue");
        HostLease held = a.lease("blue");
        store.submit(new Command.KvDelete(Keys.lease("blue", Ipv4Block.of(held.subnet())), false, Command.NO_CAS))
                .join();
        assertTrue(a.current("blue").isEmpty());
        a.renewTick();
        assertEquals(held, a.current("blue").orElseThrow(), "same subnet again");
    }

    @Test
    void theLeaseWatchFiresOnAnotherHostsChange() throws Exception {
        registry.create(NetworkRequest.named("blue"));
        registry.create(NetworkRequest.named("red"));
        LeaseKeeper self = started("h1");
        self.lease("blue");
        AtomicInteger fired = new AtomicInteger();
        ControlView.Subscription sub = view.onLeasesChanged("blue", fired::incrementAndGet);
        try {
            started("h2").lease("blue");
            Poll.until(Duration.ofSeconds(10), () -> "the watch to fire for h2's lease", () -> fired.get() >= 1);
            started("h3").lease("red");                   // another network: no wake-up
            LeaseKeeper h4 = started("h4");
            h4.lease("blue");                             // the watch was re-armed after firing
            Poll.until(Duration.ofSeconds(10), () -> "the watch to fire again for h4", () -> fired.get() >= 2);
            assertEquals(2, fired.get(), "red's lease did not wake the blue watch");
            h4.release("blue");
            Poll.until(Duration.ofSeconds(10), () -> "the watch to fire on a release", () -> fired.get() >= 3);
            assertTrue(view.leases("blue").stream().noneMatch(l -> l.host().equals("h4")));
        } finally {
            sub.close();
        }
        // Closed: a watch armed after the close fires for the next change, the closed one does not.
        int before = fired.get();
        AtomicInteger other = new AtomicInteger();
        try (ControlView.Subscription second = view.onLeasesChanged("blue", other::incrementAndGet)) {
            started("h5").lease("blue");
            Poll.until(Duration.ofSeconds(10), () -> "the second watch to fire", () -> other.get() >= 1);
            assertEquals(before, fired.get(), "the closed subscription stayed quiet; " + second);
        }
    }
}
