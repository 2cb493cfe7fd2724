package dev.weft.dns;

/** Every {@link ForwardingTest} case again, with UDP on plain blocking sockets ({@link DnsConfig#blockingUdp()}). */
class BlockingUdpForwardingTest extends ForwardingTest {
    @Override
    DnsConfig.Builder config() {
        return super.config().blockingUdp(true);
    }
}
