package dev.weft.dns;

import dev.weft.kvstore.state.HealthStatus;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/** The catalog most tests answer from, and server configurations on loopback ephemeral ports. */
final class Fixtures {
    static final int BIG = 100;

    private Fixtures() {
    }

    static DnsConfig.Builder config() {
        return DnsConfig.builder().bindAddress(InetAddress.getLoopbackAddress()).port(0).ioThreads(2)
                .altDomain("consul");
    }

    /**
     * <ul>
     * <li>node1 10.0.0.1 (meta rack=r1, rfc1035-spf), node2 10.0.0.2, node3 fd00::3, node4 10.0.0.4 with a
     * critical node check</li>
     * <li>web on node1 (tags primary, v1), node2 (v1) and node4 (excluded by its node check)</li>
     * <li>web-warn: warning on node1, passing on node2 (weights 5 passing, 2 warning)</li>
     * <li>db on node1 with its own address 10.1.0.1, weight 3; api on node3 (IPv6); ext on node1 with address
     * external.example.com; crit on node2, critical</li>
     * <li>big: {@value #BIG} instances on nodes big-001.. with 10.2.0.x</li>
     * </ul>
     */
    static TestCatalog catalog() {
        TestCatalog c = new TestCatalog();
        c.node("node1", "10.0.0.1", Map.of("rack", "r1", "rfc1035-spf", "v=spf1 -all"));
        c.node("node2", "10.0.0.2");
        c.node("node3", "fd00::3");
        c.node("node4", "10.0.0.4").nodeCheck("node4", HealthStatus.CRITICAL);
        c.service("node1", "web-1", "web", "", 80, List.of("primary", "v1"), HealthStatus.PASSING);
        c.service("node2", "web-2", "web", "", 80, List.of("v1"), HealthStatus.PASSING);
        c.service("node4", "web-4", "web", "", 80, List.of("v1"), HealthStatus.PASSING);
        c.service("node1", "warn-1", "web-warn", "", 8080, List.of(), HealthStatus.WARNING, 5, 2);
        c.service("node2", "warn-2", "web-warn", "", 8080, List.of(), HealthStatus.PASSING, 5, 2);
        c.service("node1", "db-1", "db", "10.1.0.1", 5432, List.of(), HealthStatus.PASSING, 3, 1);
        c.service("node3", "api-3", "api", "", 443, List.of(), HealthStatus.PASSING);
        c.service("node1", "ext-1", "ext", "external.example.com", 443, List.of(), HealthStatus.PASSING);
        c.service("node2", "crit-2", "crit", "", 9000, List.of(), HealthStatus.CRITICAL);
        for (int i = 1; i <= BIG; i++) {
            String node = String.format("big-%03d", i);
            c.node(node, "10.2.0." + i);
            c.service(node, "big-" + i, "big", "", 8000, List.of(), HealthStatus.PASSING);
        }
        return c;
    }
}
