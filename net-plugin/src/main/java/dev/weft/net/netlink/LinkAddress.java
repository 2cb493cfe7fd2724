package dev.weft.net.netlink;

import java.net.InetAddress;

/** An IP address assigned to a device, with its prefix length ({@code 10.42.1.1/24 dev wftbr0}). */
public record LinkAddress(String device, InetAddress address, int prefixLength) {
    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength + " dev " + device;
    }
}
