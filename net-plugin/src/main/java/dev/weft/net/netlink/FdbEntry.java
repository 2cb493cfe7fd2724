package dev.weft.net.netlink;

import java.net.InetAddress;

/**
 * A forwarding-database entry of a device itself ({@code self}), such as a VXLAN device's
 * {@code 02:…:01 dst 192.0.2.7}: frames for {@code mac} are sent, encapsulated, to {@code destination}.
 *
 * @param device       the device (a VXLAN device for the overlay)
 * @param mac          the destination MAC; {@link MacAddress#ZERO} is the default entry for unknown and broadcast
 *                     destinations
 * @param destination  the remote VTEP, or null for entries without one
 */
public record FdbEntry(String device, MacAddress mac, InetAddress destination) {
    @Override
    public String toString() {
        return mac + " dev " + device + (destination == null ? "" : " dst " + destination.getHostAddress()) + " self";
    }
}
