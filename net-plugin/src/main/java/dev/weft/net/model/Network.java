package dev.weft.net.model;

import dev.weft.net.netlink.IpPrefix;

import java.util.Objects;

/**
 * An overlay network as every host sees it (replicated state).
 *
 * @param name   unique name (Docker's network name, or the CNI config's network name)
 * @param id     unique ID (Docker's network ID when created through Docker, else generated), 1–64 chars
 * @param cidr   the network's IPv4 range; each host leases a subnet of it
 * @param subnetLength prefix length of each host's subnet (default 24)
 * @param vni    VXLAN network identifier, unique per network (1 – 16,777,215)
 * @param mtu    MTU of the containers' interfaces; 0 = underlay MTU − 50
 */
public record Network(String name, String id, IpPrefix cidr, int subnetLength, int vni, int mtu) {
    public Network {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(cidr, "cidr");
        if (!cidr.isIpv4()) {
            throw new IllegalArgumentException("only IPv4 networks are supported: " + cidr);
        }
        if (subnetLength < cidr.length() || subnetLength > 30) {
            throw new IllegalArgumentException("subnet length " + subnetLength + " must be between the network's "
                    + cidr.length() + " and 30");
        }
        if (vni < 1 || vni > 0xFFFFFF) {
            throw new IllegalArgumentException("VNI out of range: " + vni);
        }
        if (mtu != 0 && (mtu < 576 || mtu > 9000)) {
            throw new IllegalArgumentException("MTU out of range: " + mtu);
        }
    }
}
