package dev.weft.net.control;

import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Networks in a real single-member Raft store. */
class NetworkRegistryTest {
    @TempDir
    Path dir;
    private RaftStore store;
    private NetworkRegistry registry;

    @BeforeEach
    void start() {
        store = TestStore.start(dir);
        registry = new NetworkRegistry(store, ControlSettings.defaults());
    }

    @AfterEach
    void stop() {
        store.close();
    }

    @Test
    void createListDelete() {
        Network blue = registry.create(NetworkRequest.named("blue"));
        assertEquals("10.192.0.0/16", blue.cidr().toString());
        assertEquals(4096, blue.vni());
        assertEquals(24, blue.subnetLength());
        assertEquals(64, blue.id().length(), "a generated ID looks like Docker's");
        Network red = registry.create(NetworkRequest.named("red").withId("r1").withCidr("172.20.0.0/16")
                .withSubnetLength(26).withVni(100).withMtu(1400));
        assertEquals(new Network("red", "r1", IpPrefix.parse("172.20.0.0/16"), 26, 100, 1400), red);
        Network green = registry.create(NetworkRequest.named("green"));
        assertEquals("10.193.0.0/16", green.cidr().toString());
        assertEquals(4097, green.vni());

        assertEquals(List.of(blue, red, green), registry.networks());
        assertEquals(List.of(blue, red, green), new ControlView(store).networks());
        assertEquals(red, new ControlView(store).network("red").orElseThrow());
        KvEntry mirror = store.read(v -> v.get("_weft/net/networks/red"));
        assertNotNull(mirror, "the mirror key is written with the registry");
        assertEquals(red, ControlCodec.network(mirror.value(), mirror.key()));

        assertTrue(registry.delete("blue"));
        assertFalse(registry.delete("blue"), "deleting an unknown network answers false");
        assertEquals(List.of(red, green), registry.networks());
        assertNull(store.read(v -> v.get("_weft/net/networks/blue")));
        Network again = registry.create(NetworkRequest.named("blue2"));
        assertEquals("10.192.0.0/16", again.cidr().toString(), "a deleted network's CIDR is free again");
        assertEquals(4096, again.vni(), "and so is its VNI");
    }

    @Test
    void refusalsWriteNothing() {
        registry.create(NetworkRequest.named("a").withCidr("10.1.0.0/16"));
        long index = store.read(v -> v.get(Keys.REGISTRY).modifyIndex());
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> registry.create(NetworkRequest.named("b").withCidr("10.1.128.0/17")));
        assertEquals("CIDR 10.1.128.0/17 of network 'b' overlaps network 'a' (10.1.0.0/16)", overlap.getMessage());
        assertThrows(IllegalArgumentException.class, () -> registry.create(NetworkRequest.named("a")));
        assertThrows(IllegalArgumentException.class, () -> registry.create(NetworkRequest.named("no/slash")));
        assertEquals(index, (long) store.read(v -> v.get(Keys.REGISTRY).modifyIndex()));
        assertEquals(1, (int) store.read(v -> v.list("_weft/net/networks/").size()));
    }

    @Test
    void concurrentCreationsNeverOverlap() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            // 8 threads take the 16 /16s of the default /12 (and their VNIs) at the same time.
            List<Callable<Network>> tasks = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String name = "n" + i;
                tasks.add(() -> registry.create(NetworkRequest.named(name)));
            }
            List<Network> created = new ArrayList<>();
            for (Future<Network> f : pool.invokeAll(tasks)) {
                created.add(f.get());
            }
            Set<IpPrefix> cidrs = new HashSet<>();
            Set<Integer> vnis = new HashSet<>();
            for (Network n : created) {
                assertTrue(Ipv4Block.parse("10.192.0.0/12").contains(Ipv4Block.of(n.cidr())), n.toString());
                cidrs.add(n.cidr());
                vnis.add(n.vni());
            }
            assertEquals(16, cidrs.size(), "distinct CIDRs: " + created);
            assertEquals(16, vnis.size(), "distinct VNIs: " + created);
            assertEquals(Set.copyOf(created), Set.copyOf(registry.networks()));
            assertThrows(PoolExhaustedException.class, () -> registry.create(NetworkRequest.named("n16")));

            // The same explicit CIDR and the same name, asked by 8 threads at once: exactly one wins each.
            List<Callable<Network>> clashing = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String name = "c" + i;
                clashing.add(() -> registry.create(NetworkRequest.named(name).withCidr("172.30.0.0/16")));
                clashing.add(() -> registry.create(NetworkRequest.named("same").withCidr("172.31." + name.charAt(1)
                        + ".0/24")));
            }
            int ok = 0;
            for (Future<Network> f : pool.invokeAll(clashing)) {
                try {
                    f.get();
                    ok++;
                } catch (ExecutionException e) {
                    assertInstanceOf(IllegalArgumentException.class, e.getCause());
                }
            }
            assertEquals(2, ok, "one creation of 172.30.0.0/16 and one of 'same'");
            assertEquals(18, registry.networks().size());
        } finally {
            pool.shutdownNow();
        }
    }
}
