package dev.weft.net.netlink;

/**
 * A network device as the kernel reports it.
 *
 * @param index        the interface index (unique within its namespace)
 * @param name         the device name
 * @param kind         the link kind ({@code veth}, {@code bridge}, {@code vxlan}, …), or "" for devices without
 *                     one (loopback, physical NICs)
 * @param mtu          the MTU
 * @param mac          the hardware address, or null for devices without a 6-byte one
 * @param up           administratively up ({@code IFF_UP})
 * @param masterIndex  the index of the master (bridge), or 0
 * @param vxlan        for a VXLAN device its parameters, else null
 */
public record Link(int index, String name, String kind, int mtu, MacAddress mac, boolean up, int masterIndex,
                   VxlanSpec vxlan) {
}
