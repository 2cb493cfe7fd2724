package dev.weft.net.dataplane;

import dev.weft.net.dataplane.OverlayOp.AddAddress;
import dev.weft.net.dataplane.OverlayOp.AddRule;
import dev.weft.net.dataplane.OverlayOp.CreateBridge;
import dev.weft.net.dataplane.OverlayOp.CreateVxlan;
import dev.weft.net.dataplane.OverlayOp.DeleteAddress;
import dev.weft.net.dataplane.OverlayOp.DeleteFdb;
import dev.weft.net.dataplane.OverlayOp.DeleteLink;
import dev.weft.net.dataplane.OverlayOp.DeleteNeighbour;
import dev.weft.net.dataplane.OverlayOp.DeleteRoute;
import dev.weft.net.dataplane.OverlayOp.DeleteRule;
import dev.weft.net.dataplane.OverlayOp.EnableForwarding;
import dev.weft.net.dataplane.OverlayOp.ReplaceFdb;
import dev.weft.net.dataplane.OverlayOp.ReplaceNeighbour;
import dev.weft.net.dataplane.OverlayOp.ReplaceRoute;
import dev.weft.net.dataplane.OverlayOp.SetMac;
import dev.weft.net.dataplane.OverlayOp.SetMtu;
import dev.weft.net.dataplane.OverlayOp.SetUp;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.Link;
import dev.weft.net.netlink.LinkAddress;
import dev.weft.net.netlink.NetNs;
import dev.weft.net.netlink.NetlinkClient;
import dev.weft.net.netlink.NetlinkException;
import dev.weft.net.netlink.Route;
import dev.weft.net.netlink.Rule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The overlay's kernel side on one host, flannel's VXLAN scheme without ARP or FDB misses: per network a bridge
 * {@code wfb<vni>} holding the gateway of this host's subnet, a VXLAN device {@code wfv<vni>} (learning off,
 * MAC = the lease's VTEP MAC, address = the subnet's network address /32), and per remote host a permanent
 * neighbour, an FDB entry and an onlink route. {@link #reconcile} compares that with what the kernel has and
 * changes only what differs, so it is safe to call after every lease change, on a timer and after a restart; it
 * never recreates a device that is already right.
 *
 * <p>Networks are isolated by two policy-routing rules per device: traffic entering a network's bridge or VXLAN
 * device is routed (main table) only towards the network's own CIDR, anything else is unreachable. IPv4
 * forwarding is switched on for these devices only ({@code net.ipv4.conf.DEV.forwarding}).
 *
 * <p>Not thread-safe across instances for the same network; one instance serializes its own calls. It does not
 * own the netlink client.
 */
public final class DataPlane {
    private final NetlinkClient netlink;
    private final Path netns;

    /**
     * @param netlink a client open in the host's namespace
     * @param netns   that namespace's file (for its sysctls), or null when it is the JVM's own namespace
     */
    public DataPlane(NetlinkClient netlink, Path netns) {
        this.netlink = netlink;
        this.netns = netns;
    }

    /**
     * Makes the kernel hold exactly {@code network}'s devices and the entries for {@code remotes} (leases of the
     * same network; {@code self}'s own lease among them is ignored), and returns what it changed.
     */
    public synchronized Reconciliation reconcile(Network network, HostLease self, Collection<HostLease> remotes,
                                                 UnderlaySettings underlay) {
        if (!self.network().equals(network.name())) {
            throw new IllegalArgumentException("lease of network " + self.network() + " for " + network.name());
        }
        Link underlayLink = underlayLink(self.underlay());
        int underlayMtu = underlay.mtu() != 0 ? underlay.mtu() : underlayLink.mtu();
        OverlayPlanner.Desired desired = OverlayPlanner.desired(network, self, remotes, underlayLink.index(),
                underlayMtu, underlay.vxlanPort());
        List<OverlayOp> ops = OverlayPlanner.plan(desired, observe(network));
        for (OverlayOp op : ops) {
            apply(op);
        }
        return new Reconciliation(network.name(), ops);
    }

    /** Deletes the network's devices (with their routes, neighbours and FDB entries) and its rules. */
    public synchronized Reconciliation remove(Network network) {
        List<OverlayOp> ops = new ArrayList<>();
        for (Rule r : rulesOf(network)) {
            ops.add(new DeleteRule(r));
        }
        for (String name : List.of(OverlayNames.vxlan(network), OverlayNames.bridge(network))) {
            if (netlink.link(name).isPresent()) {
                ops.add(new DeleteLink(name));
            }
        }
        for (OverlayOp op : ops) {
            apply(op);
        }
        return new Reconciliation(network.name(), ops);
    }

    /** The network's bridge on this host, after checking that the endpoint's address is in this host's subnet. */
    private Link checkedBridge(Network network, HostLease self, Endpoint endpoint) {
        String bridgeName = OverlayNames.bridge(network);
        Link bridge = netlink.link(bridgeName).orElseThrow(() -> new IllegalStateException(
                "network " + network.name() + " has no bridge " + bridgeName + " on this host: reconcile it first"));
        if (!self.subnet().isIpv4() || !contains(self.subnet(), endpoint.ip())) {
            throw new IllegalArgumentException("endpoint address " + endpoint.ip().getHostAddress()
                    + " is not in the host's subnet " + self.subnet());
        }
        return bridge;
    }

    /**
     * Connects a container to the network (an "ensure": a part already in place is kept): a veth pair whose host
     * end {@link OverlayNames#hostVeth} is on the network's bridge and up, and whose other end, inside
     * {@code containerNetns}, is called {@code ifName} and has the endpoint's MAC, the bridge's MTU, the endpoint's
     * address with the host subnet's prefix length, a default route via the gateway, and is up (as is {@code lo}).
     * The network must have been reconciled on this host.
     *
     * @return the host end's name
     */
    public synchronized String attach(Network network, HostLease self, Endpoint endpoint, Path containerNetns,
                                      String ifName) {
        Link bridge = checkedBridge(network, self, endpoint);
        int mtu = bridge.mtu();
        String hostEnd = OverlayNames.hostVeth(endpoint);
        String peer = OverlayNames.containerVethTemporary(endpoint);
        if (netlink.link(hostEnd).isEmpty()) {
            if (netlink.link(peer).isPresent()) {
                netlink.deleteLink(peer); // left over by an attach that failed half-way
            }
            // the container end is born in the container's namespace: no device move (an RCU grace period)
            netlink.createVethPair(hostEnd, peer, containerNetns, mtu);
        }
        Link host = netlink.link(hostEnd).orElseThrow();
        if (host.masterIndex() != bridge.index()) {
            netlink.setMaster(hostEnd, bridge.name());
        }
        if (host.mtu() != mtu) {
            netlink.setMtu(hostEnd, mtu);
        }
        if (!host.up()) {
            netlink.setUp(hostEnd);
        }
        if (netlink.link(peer).isPresent()) {
            netlink.moveToNamespace(peer, containerNetns);
        }
        Inet4Address gateway = OverlayPlanner.gateway(self.subnet());
        try (NetlinkClient inside = NetlinkClient.openIn(containerNetns)) {
            if (inside.link(ifName).isEmpty()) {
                if (inside.link(peer).isEmpty()) {
                    throw new IllegalStateException("the container end of " + hostEnd + " is neither " + peer
                            + " nor " + ifName + " in " + containerNetns);
                }
                inside.rename(peer, ifName);
            }
            Link link = inside.link(ifName).orElseThrow();
            if (!endpoint.mac().equals(link.mac())) {
                inside.setMac(ifName, endpoint.mac());
            }
            if (link.mtu() != mtu) {
                inside.setMtu(ifName, mtu);
            }
            LinkAddress address = new LinkAddress(ifName, endpoint.ip(), self.subnet().length());
            if (!inside.addresses(ifName).contains(address)) {
                inside.addAddress(ifName, endpoint.ip(), self.subnet().length());
            }
            if (!link.up()) {
                inside.setUp(ifName);
            }
            Optional<Link> lo = inside.link("lo");
            if (lo.isPresent() && !lo.get().up()) {
                inside.setUp("lo");
            }
            Route defaultRoute = Route.via(new IpPrefix(IpPrefix.literal("0.0.0.0"), 0), gateway, ifName);
            if (!inside.routes().contains(defaultRoute)) {
                inside.replaceRoute(defaultRoute);
            }
        }
        return hostEnd;
    }

    /**
     * Docker's way of connecting a container: a veth pair whose host end {@link OverlayNames#hostVeth} is on the
     * network's bridge and up, and whose other end stays in this namespace under its temporary name
     * {@link OverlayNames#containerVethTemporary} with the endpoint's MAC and the bridge's MTU, for the caller to
     * hand over (Docker moves it into the sandbox, renames it and configures its address and routes). An
     * "ensure": a pair whose container end is no longer here (handed over by an earlier attempt) is recreated.
     * The network must have been reconciled on this host.
     *
     * @return the container end's (temporary) name
     */
    public synchronized String prepareVeth(Network network, HostLease self, Endpoint endpoint) {
        Link bridge = checkedBridge(network, self, endpoint);
        int mtu = bridge.mtu();
        String hostEnd = OverlayNames.hostVeth(endpoint);
        String peer = OverlayNames.containerVethTemporary(endpoint);
        boolean hostPresent = netlink.link(hostEnd).isPresent();
        boolean peerPresent = netlink.link(peer).isPresent();
        if (hostPresent && !peerPresent) {
            netlink.deleteLink(hostEnd); // its other end was handed over before: start again
            hostPresent = false;
        } else if (!hostPresent && peerPresent) {
            netlink.deleteLink(peer); // left over by an attempt that failed half-way
        }
        if (!hostPresent) {
            netlink.createVethPair(hostEnd, peer);
        }
        Link host = netlink.link(hostEnd).orElseThrow();
        if (host.mtu() != mtu) {
            netlink.setMtu(hostEnd, mtu);
        }
        if (host.masterIndex() != bridge.index()) {
            netlink.setMaster(hostEnd, bridge.name());
        }
        if (!host.up()) {
            netlink.setUp(hostEnd);
        }
        Link container = netlink.link(peer).orElseThrow();
        if (container.mtu() != mtu) {
            netlink.setMtu(peer, mtu);
        }
        if (!endpoint.mac().equals(container.mac())) {
            netlink.setMac(peer, endpoint.mac());
        }
        return peer;
    }

    /** A link of the host's namespace (for example an endpoint's host end), if it exists. */
    public synchronized Optional<Link> link(String name) {
        return netlink.link(name);
    }

    /**
     * What differs from an {@link #attach} of this endpoint (CNI's CHECK): the host end on the bridge and up, and
     * inside {@code containerNetns} {@code ifName} up with the endpoint's MAC and address and a default route via
     * the gateway. Reads only.
     *
     * @return the differences, each a sentence; empty when the attachment is as it should be
     */
    public synchronized List<String> verify(Network network, HostLease self, Endpoint endpoint, Path containerNetns,
                                            String ifName) {
        List<String> problems = new ArrayList<>();
        String hostEnd = OverlayNames.hostVeth(endpoint);
        Optional<Link> bridge = netlink.link(OverlayNames.bridge(network));
        Optional<Link> host = netlink.link(hostEnd);
        if (bridge.isEmpty()) {
            problems.add("the network's bridge " + OverlayNames.bridge(network) + " is missing");
        }
        if (host.isEmpty()) {
            problems.add("the host end " + hostEnd + " is missing");
        } else if (bridge.isPresent() && host.get().masterIndex() != bridge.get().index()) {
            problems.add("the host end " + hostEnd + " is not on the bridge " + bridge.get().name());
        } else if (!host.get().up()) {
            problems.add("the host end " + hostEnd + " is down");
        }
        if (!Files.exists(containerNetns)) {
            problems.add("the namespace " + containerNetns + " is gone");
            return problems;
        }
        try (NetlinkClient inside = NetlinkClient.openIn(containerNetns)) {
            Optional<Link> link = inside.link(ifName);
            if (link.isEmpty()) {
                problems.add("no interface " + ifName + " in " + containerNetns);
                return problems;
            }
            if (!link.get().up()) {
                problems.add(ifName + " is down");
            }
            if (!endpoint.mac().equals(link.get().mac())) {
                problems.add(ifName + " has MAC " + link.get().mac() + ", not " + endpoint.mac());
            }
            LinkAddress address = new LinkAddress(ifName, endpoint.ip(), self.subnet().length());
            if (!inside.addresses(ifName).contains(address)) {
                problems.add(ifName + " lacks " + endpoint.ip().getHostAddress() + "/" + self.subnet().length());
            }
            Route defaultRoute = Route.via(new IpPrefix(IpPrefix.literal("0.0.0.0"), 0),
                    OverlayPlanner.gateway(self.subnet()), ifName);
            if (!inside.routes().contains(defaultRoute)) {
                problems.add("no default route via " + OverlayPlanner.gateway(self.subnet()).getHostAddress()
                        + " on " + ifName);
            }
        } catch (NetlinkException e) {
            problems.add("cannot read " + containerNetns + ": " + e.getMessage());
        }
        return problems;
    }

    /** Removes the endpoint's veth pair (through its host end); false when it was already gone. */
    public synchronized boolean detach(Endpoint endpoint) {
        String hostEnd = OverlayNames.hostVeth(endpoint);
        try {
            netlink.deleteLink(hostEnd);
            return true;
        } catch (NetlinkException e) {
            if (e.isNotFound()) {
                return false;
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------- observing

    private OverlayPlanner.Observed observe(Network network) {
        String bridgeName = OverlayNames.bridge(network);
        String vxName = OverlayNames.vxlan(network);
        Link bridge = netlink.link(bridgeName).orElse(null);
        Link vxlan = netlink.link(vxName).orElse(null);
        List<LinkAddress> bridgeAddresses = bridge == null ? List.of() : ipv4(netlink.addresses(bridgeName));
        List<LinkAddress> vxAddresses = vxlan == null ? List.of() : ipv4(netlink.addresses(vxName));
        Set<String> forwarding = new HashSet<>();
        for (String name : List.of(bridgeName, vxName)) {
            if (netlink.link(name).isPresent() && "1".equals(readSysctl(forwardingKey(name)))) {
                forwarding.add(name);
            }
        }
        if (vxlan == null) {
            return new OverlayPlanner.Observed(bridge, bridgeAddresses, null, List.of(), rulesOf(network),
                    List.of(), List.of(), List.of(), forwarding);
        }
        return new OverlayPlanner.Observed(bridge, bridgeAddresses, vxlan, vxAddresses, rulesOf(network),
                netlink.neighbours(vxName).stream().filter(n -> n.address() instanceof Inet4Address).toList(),
                netlink.fdb(vxName),
                netlink.routes().stream().filter(r -> vxName.equals(r.device()) && r.destination().isIpv4())
                        .toList(),
                forwarding);
    }

    /** Our rules: the two priorities, with one of the network's devices as input device. */
    private List<Rule> rulesOf(Network network) {
        Set<String> devices = Set.of(OverlayNames.bridge(network), OverlayNames.vxlan(network));
        return netlink.rules().stream()
                .filter(r -> r.priority() == OverlayPlanner.RULE_LOOKUP_PRIORITY
                        || r.priority() == OverlayPlanner.RULE_UNREACHABLE_PRIORITY)
                .filter(r -> r.inputDevice() != null && devices.contains(r.inputDevice()))
                .toList();
    }

    private static List<LinkAddress> ipv4(List<LinkAddress> addresses) {
        return addresses.stream().filter(a -> a.address() instanceof Inet4Address).toList();
    }

    /** The device holding the host's underlay address. */
    private Link underlayLink(Inet4Address underlay) {
        for (Link l : netlink.links()) {
            for (LinkAddress a : netlink.addresses(l.name())) {
                if (a.address().equals(underlay)) {
                    return l;
                }
            }
        }
        throw new IllegalStateException("the underlay address " + underlay.getHostAddress()
                + " is on no device of this host");
    }

    private static boolean contains(IpPrefix prefix, Inet4Address ip) {
        return new IpPrefix(ip, prefix.length()).equals(prefix);
    }

    // ---------------------------------------------------------------- applying

    private void apply(OverlayOp op) {
        if (op instanceof CreateBridge c) {
            netlink.createBridge(c.name());
        } else if (op instanceof CreateVxlan c) {
            netlink.createVxlan(c.spec());
        } else if (op instanceof DeleteLink d) {
            netlink.deleteLink(d.name());
        } else if (op instanceof SetMac s) {
            netlink.setMac(s.device(), s.mac());
        } else if (op instanceof SetMtu s) {
            netlink.setMtu(s.device(), s.mtu());
        } else if (op instanceof SetUp s) {
            netlink.setUp(s.device());
        } else if (op instanceof EnableForwarding f) {
            writeSysctl(forwardingKey(f.device()), "1");
        } else if (op instanceof AddAddress a) {
            netlink.addAddress(a.address().device(), a.address().address(), a.address().prefixLength());
        } else if (op instanceof DeleteAddress a) {
            netlink.deleteAddress(a.address().device(), a.address().address(), a.address().prefixLength());
        } else if (op instanceof AddRule r) {
            netlink.addRule(r.rule());
        } else if (op instanceof DeleteRule r) {
            netlink.deleteRule(r.rule());
        } else if (op instanceof ReplaceNeighbour n) {
            netlink.replaceNeighbour(n.neighbour().device(), n.neighbour().address(), n.neighbour().mac(), true);
        } else if (op instanceof DeleteNeighbour n) {
            netlink.deleteNeighbour(n.neighbour().device(), n.neighbour().address());
        } else if (op instanceof ReplaceFdb f) {
            netlink.replaceFdb(f.entry().device(), f.entry().mac(), f.entry().destination());
        } else if (op instanceof DeleteFdb f) {
            netlink.deleteFdb(f.entry().device(), f.entry().mac(), f.entry().destination());
        } else if (op instanceof ReplaceRoute r) {
            netlink.replaceRoute(r.route());
        } else if (op instanceof DeleteRoute r) {
            netlink.deleteRoute(r.route());
        } else {
            throw new IllegalArgumentException("unknown operation " + op);
        }
    }

    private static Path forwardingKey(String device) {
        return Path.of("/proc/sys/net/ipv4/conf", device, "forwarding");
    }

    /** A sysctl of the host's namespace (/proc/sys/net is per namespace, seen through the reading thread's). */
    private String readSysctl(Path key) {
        return inNamespace(() -> Files.readString(key, StandardCharsets.US_ASCII).trim());
    }

    private void writeSysctl(Path key, String value) {
        inNamespace(() -> {
            Files.writeString(key, value, StandardCharsets.US_ASCII);
            return null;
        });
    }

    private <T> T inNamespace(NetNs.Work<T, IOException> work) {
        try {
            return netns == null ? work.call() : NetNs.run(netns, work);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
