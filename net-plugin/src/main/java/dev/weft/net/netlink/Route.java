package dev.weft.net.netlink;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * A unicast route of the main table.
 *
 * @param destination  the destination prefix
 * @param via          the gateway, or null for a directly connected destination
 * @param device       the output device, or null (read back only: multipath routes)
 * @param onlink       the gateway is reachable on {@code device} even though no address of the device covers it
 *                     (a VXLAN overlay's {@code via <remote vtep> onlink})
 */
public record Route(IpPrefix destination, InetAddress via, String device, boolean onlink) {

    public Route {
        Objects.requireNonNull(destination, "destination");
        if (via != null && (via instanceof Inet4Address) != destination.isIpv4()) {
            throw new IllegalArgumentException("gateway " + via.getHostAddress() + " and destination "
                    + destination + " are of different families");
        }
        if (onlink && via == null) {
            throw new IllegalArgumentException("onlink needs a gateway");
        }
    }

    /** {@code DST dev DEV} (scope link). */
    public static Route direct(IpPrefix destination, String device) {
        return new Route(destination, null, device, false);
    }

    /** {@code DST via GW dev DEV}. */
    public static Route via(IpPrefix destination, InetAddress via, String device) {
        return new Route(destination, via, device, false);
    }

    /** {@code DST via GW dev DEV onlink}. */
    public static Route onlink(IpPrefix destination, InetAddress via, String device) {
        return new Route(destination, via, device, true);
    }

    @Override
    public String toString() {
        return destination + (via == null ? "" : " via " + via.getHostAddress())
                + (device == null ? "" : " dev " + device) + (onlink ? " onlink" : "");
    }
}
