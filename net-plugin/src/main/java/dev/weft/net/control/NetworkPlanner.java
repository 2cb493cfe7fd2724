package dev.weft.net.control;

import dev.weft.net.model.Network;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The pure decision of network creation: given the networks that exist and a request, the network to add
 * (default CIDR carved from the cluster range, next free VNI) or a clear refusal. No I/O; the registry runs it
 * inside its compare-and-set loop.
 */
final class NetworkPlanner {
    static final int MAX_VNI = 0xFFFFFF;

    private NetworkPlanner() {
    }

    /**
     * @param generatedId the ID to use when the request has none
     * @throws IllegalArgumentException when the request is invalid or conflicts with an existing network
     * @throws PoolExhaustedException   when no CIDR or VNI is left to choose
     */
    static Network plan(List<Network> existing, NetworkRequest req, ControlSettings settings, String generatedId) {
        String name = Keys.checkName(req.name());
        String id = req.id() == null ? generatedId : req.id();
        if (id.isEmpty() || id.length() > 64 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("invalid network ID '" + id + "': 1-64 printable ASCII characters");
        }
        for (Network n : existing) {
            if (n.name().equals(name)) {
                throw new IllegalArgumentException("network name '" + name + "' is taken (ID " + n.id() + ", "
                        + n.cidr() + ")");
            }
            if (n.id().equals(id)) {
                throw new IllegalArgumentException("network ID '" + id + "' is taken by network '" + n.name() + "'");
            }
        }

        Ipv4Block cidr;
        if (req.cidr() != null) {
            cidr = Ipv4Block.of(req.cidr());
            for (Network n : existing) {
                if (Ipv4Block.of(n.cidr()).overlaps(cidr)) {
                    throw new IllegalArgumentException("CIDR " + cidr + " of network '" + name
                            + "' overlaps network '" + n.name() + "' (" + n.cidr() + ")");
                }
            }
        } else {
            Ipv4Block pool = Ipv4Block.of(settings.clusterRange());
            cidr = pool.firstFreeBlock(settings.poolNetworkLength(),
                            existing.stream().map(n -> Ipv4Block.of(n.cidr())).toList())
                    .orElseThrow(() -> new PoolExhaustedException("no free /" + settings.poolNetworkLength()
                            + " left in the cluster range " + pool + " for network '" + name + "' ("
                            + existing.size() + " networks exist); give it a CIDR"));
        }

        int subnetLength = req.subnetLength() != 0 ? req.subnetLength()
                : Math.min(30, Math.max(settings.defaultSubnetLength(), cidr.length()));

        Set<Integer> vnis = new HashSet<>();
        for (Network n : existing) {
            vnis.add(n.vni());
        }
        int vni;
        if (req.vni() != 0) {
            vni = req.vni();
            if (vni < 1 || vni > MAX_VNI) {
                throw new IllegalArgumentException("VNI out of range (1-" + MAX_VNI + "): " + vni);
            }
            if (vnis.contains(vni)) {
                String owner = existing.stream().filter(n -> n.vni() == req.vni()).findFirst()
                        .map(Network::name).orElse("?");
                throw new IllegalArgumentException("VNI " + vni + " is taken by network '" + owner + "'");
            }
        } else {
            vni = freeVni(settings.vniBase(), vnis);
        }
        return new Network(name, id, cidr.toPrefix(), subnetLength, vni, req.mtu());
    }

    /** The lowest VNI at or above {@code base} that is not taken. */
    static int freeVni(int base, Set<Integer> taken) {
        for (int v = base; v <= MAX_VNI; v++) {
            if (!taken.contains(v)) {
                return v;
            }
        }
        throw new PoolExhaustedException("no free VNI at or above " + base);
    }
}
