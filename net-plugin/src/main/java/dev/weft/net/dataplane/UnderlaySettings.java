package dev.weft.net.dataplane;

/**
 * How this host's overlay devices use the underlay.
 *
 * @param vxlanPort UDP port of the VXLAN devices (IANA's 4789 by default; every host of a network must agree)
 * @param mtu       the underlay's MTU, or 0 to take the MTU of the device holding the host's underlay address;
 *                  a network without an MTU of its own gets this minus {@link #VXLAN_OVERHEAD}
 */
public record UnderlaySettings(int vxlanPort, int mtu) {
    /** Outer Ethernet-free VXLAN encapsulation over IPv4: IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
    public static final int VXLAN_OVERHEAD = 50;
    public static final int DEFAULT_PORT = 4789;

    public UnderlaySettings {
        if (vxlanPort < 1 || vxlanPort > 65535) {
            throw new IllegalArgumentException("VXLAN port out of range: " + vxlanPort);
        }
        if (mtu != 0 && (mtu < 576 + VXLAN_OVERHEAD || mtu > 65535)) {
            throw new IllegalArgumentException("underlay MTU out of range: " + mtu);
        }
    }

    /** Port 4789, MTU read from the underlay device. */
    public static UnderlaySettings defaults() {
        return new UnderlaySettings(DEFAULT_PORT, 0);
    }
}
