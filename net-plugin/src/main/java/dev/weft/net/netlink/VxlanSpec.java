package dev.weft.net.netlink;

import java.net.Inet4Address;

/**
 * A VXLAN device as created and as read back by {@link NetlinkClient#link}: equal specs mean an equal device,
 * so a reconciler can compare desired and observed.
 *
 * @param name           the device name (at most 15 bytes)
 * @param vni            the VXLAN network identifier, 0 … 2^24-1
 * @param port           the UDP destination port (4789 is IANA's; Linux' own default is 8472)
 * @param local          the source address of encapsulated packets, or null to let routing choose
 * @param underlayIndex  the interface index of the underlay device ({@code dev}), or 0 for none
 * @param learning       whether the device learns remote MACs from received packets (off for an overlay whose
 *                       FDB is written by the control plane)
 */
public record VxlanSpec(String name, int vni, int port, Inet4Address local, int underlayIndex, boolean learning) {
    public static final int IANA_PORT = 4789;

    public VxlanSpec {
        RtnlMessages.checkName(name);
        if (vni < 0 || vni >= (1 << 24)) {
            throw new IllegalArgumentException("VNI " + vni + " out of range 0…16777215");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range 1…65535");
        }
        if (underlayIndex < 0) {
            throw new IllegalArgumentException("negative underlay index " + underlayIndex);
        }
    }

    /** No underlay device, learning off. */
    public static VxlanSpec of(String name, int vni, int port, Inet4Address local) {
        return new VxlanSpec(name, vni, port, local, 0, false);
    }

    public VxlanSpec withUnderlay(int index) {
        return new VxlanSpec(name, vni, port, local, index, learning);
    }

    public VxlanSpec withLearning(boolean on) {
        return new VxlanSpec(name, vni, port, local, underlayIndex, on);
    }
}
