package dev.weft.dns;

import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every {@link DnsServerTest} case again, with UDP on plain blocking sockets ({@link DnsConfig#blockingUdp()}). */
class BlockingUdpDnsServerTest extends DnsServerTest {
    @Override
    DnsConfig.Builder config() {
        return super.config().blockingUdp(true);
    }

    @Test
    void udpIsServedByItsOwnThreads() {
        try (DnsServer s = DnsServer.start(config().ioThreads(2).build(), Fixtures.catalog(),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
            String prefix = "weft-dns-udp-" + s.udpAddress().getPort() + "-";
            assertEquals(2, Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith(prefix)).count(), "one thread per UDP socket");
            assertEquals(2, Queries.answers(Queries.query(s.udpAddress(), "web.service.weft", Type.A)).size());
            s.close();
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith(prefix) && t.isAlive()), "threads end with the server");
        }
    }
}
