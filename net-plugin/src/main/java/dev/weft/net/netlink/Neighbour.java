package dev.weft.net.netlink;

import java.net.InetAddress;

/**
 * An entry of the IPv4 ARP or IPv6 neighbour table.
 *
 * @param device     the device the neighbour is on
 * @param address    its IP address
 * @param mac        its link-layer address, or null (incomplete or failed entries)
 * @param permanent  a static entry ({@code NUD_PERMANENT}) the kernel never expires or re-probes
 */
public record Neighbour(String device, InetAddress address, MacAddress mac, boolean permanent) {
    @Override
    public String toString() {
        return address.getHostAddress() + " dev " + device + (mac == null ? "" : " lladdr " + mac)
                + (permanent ? " PERMANENT" : "");
    }
}
