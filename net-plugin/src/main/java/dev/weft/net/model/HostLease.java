package dev.weft.net.model;

import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.MacAddress;

import java.net.Inet4Address;
import java.util.Objects;

/**
 * One host's share of a network: its subnet, and where its VXLAN endpoint is (underlay IP and VTEP MAC). The
 * VTEP MAC is derived from the host's identity and the network ({@link #vtepMac}), so a restarted host keeps it
 * and peers never hold a stale neighbour entry for it.
 *
 * @param network   network name
 * @param host      host (agent node) name
 * @param subnet    the host's subnet of the network's CIDR; its first address is the host's gateway
 * @param underlay  the host's underlay address (VXLAN packets go there)
 * @param vtepMac   MAC of the host's VXLAN device for this network
 */
public record HostLease(String network, String host, IpPrefix subnet, Inet4Address underlay, MacAddress vtepMac) {
    public HostLease {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(subnet, "subnet");
        Objects.requireNonNull(underlay, "underlay");
        Objects.requireNonNull(vtepMac, "vtepMac");
    }

    /** This host's gateway in the network: the first host address of its subnet, held by its bridge. */
    public Inet4Address gateway() {
        return gateway(subnet);
    }

    /** The first host address of a subnet. */
    public static Inet4Address gateway(IpPrefix subnet) {
        byte[] b = subnet.address().getAddress();
        int v = ((b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff)) + 1;
        try {
            return (Inet4Address) java.net.InetAddress.getByAddress(new byte[] {
                    (byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A locally administered unicast MAC derived from (host ID, network ID): stable across restarts, distinct
     * per host and network with overwhelming probability (40 bits of a SHA-256).
     */
    public static MacAddress vtepMac(String hostId, String networkId) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((hostId + "\u0000" + networkId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            byte[] mac = new byte[6];
            mac[0] = 0x0a; // locally administered (bit 1), unicast (bit 0 clear)
            System.arraycopy(h, 0, mac, 1, 5);
            return MacAddress.of(mac);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
