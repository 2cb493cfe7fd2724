package dev.weft.net.control;

import dev.weft.net.netlink.IpPrefix;

import java.util.Objects;

/**
 * What a caller asks for when creating a network; unset parts are chosen by {@link NetworkRegistry#create}.
 *
 * @param name         unique name: a letter or digit, then letters, digits, {@code _ . -}; at most 64
 * @param id           unique ID (Docker's network ID), or null to generate one
 * @param cidr         the network's range, or null for the next free block of the cluster range
 * @param subnetLength prefix length of each host's subnet, or 0 for the default (24)
 * @param vni          VXLAN network identifier, or 0 for the next free one from the VNI base
 * @param mtu          MTU of the containers' interfaces; 0 = underlay MTU − 50
 */
public record NetworkRequest(String name, String id, IpPrefix cidr, int subnetLength, int vni, int mtu) {

    public NetworkRequest {
        Objects.requireNonNull(name, "name");
    }

    /** A request with every choice left to the registry. */
    public static NetworkRequest named(String name) {
        return new NetworkRequest(name, null, null, 0, 0, 0);
    }

    public NetworkRequest withId(String newId) {
        return new NetworkRequest(name, newId, cidr, subnetLength, vni, mtu);
    }

    public NetworkRequest withCidr(IpPrefix newCidr) {
        return new NetworkRequest(name, id, newCidr, subnetLength, vni, mtu);
    }

    public NetworkRequest withCidr(String newCidr) {
        return withCidr(IpPrefix.parse(newCidr));
    }

    public NetworkRequest withSubnetLength(int length) {
        return new NetworkRequest(name, id, cidr, length, vni, mtu);
    }

    public NetworkRequest withVni(int newVni) {
        return new NetworkRequest(name, id, cidr, subnetLength, newVni, mtu);
    }

    public NetworkRequest withMtu(int newMtu) {
        return new NetworkRequest(name, id, cidr, subnetLength, vni, newMtu);
    }
}
