package dev.weft.dns;

/** Every {@link DnsLimitsTest} case again, with UDP on plain blocking sockets ({@link DnsConfig#blockingUdp()}). */
class BlockingUdpDnsLimitsTest extends DnsLimitsTest {
    @Override
    DnsConfig.Builder config() {
        return super.config().blockingUdp(true);
    }
}
