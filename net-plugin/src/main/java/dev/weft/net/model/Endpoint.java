package dev.weft.net.model;

import dev.weft.net.netlink.MacAddress;

import java.net.Inet4Address;
import java.util.Objects;

/**
 * A container's attachment to a network: allocated from its host's lease, never duplicated.
 *
 * @param network     network name
 * @param id          endpoint ID (Docker's endpoint ID, or CNI's container ID + interface name)
 * @param containerId the container (for garbage collection of endpoints whose container is gone)
 * @param host        host (agent node) name
 * @param ip          the endpoint's address, inside the host's subnet
 * @param mac         the endpoint's MAC
 */
public record Endpoint(String network, String id, String containerId, String host, Inet4Address ip,
                       MacAddress mac) {
    public Endpoint {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(ip, "ip");
        Objects.requireNonNull(mac, "mac");
    }
}
