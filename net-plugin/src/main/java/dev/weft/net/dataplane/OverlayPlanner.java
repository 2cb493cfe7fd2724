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
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.FdbEntry;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.Link;
import dev.weft.net.netlink.LinkAddress;
import dev.weft.net.netlink.MacAddress;
import dev.weft.net.netlink.Neighbour;
import dev.weft.net.netlink.Route;
import dev.weft.net.netlink.Rule;
import dev.weft.net.netlink.VxlanSpec;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The pure half of the data plane: what one network should look like on this host ({@link Desired}), and the
 * operations that turn what the kernel has ({@link Observed}) into it. No I/O.
 *
 * <p>Order of a plan: the bridge (create, MAC, MTU, address, up), the VXLAN device (same), forwarding on both,
 * the isolation rules; then stale routes, FDB entries and neighbours are removed (in that order), and for each
 * remote host its neighbour, FDB entry and route are written (in that order: a route is only usable once the
 * gateway's MAC and the MAC's VTEP are known).
 */
final class OverlayPlanner {
    /** {@code pref 32100 iif DEV to CIDR lookup main}: traffic entering a network's device stays in it… */
    static final int RULE_LOOKUP_PRIORITY = 32100;
    /** {@code pref 32101 iif DEV unreachable}: …and anything else it asks the host to route is refused. */
    static final int RULE_UNREACHABLE_PRIORITY = 32101;

    private OverlayPlanner() {
    }

    /** One network's devices and entries on this host, as they should be. */
    record Desired(String bridge, MacAddress bridgeMac, LinkAddress gateway, VxlanSpec vxlan, MacAddress vtepMac,
                   LinkAddress vtepAddress, int mtu, List<Rule> rules, List<Neighbour> neighbours,
                   List<FdbEntry> fdb, List<Route> routes) {
    }

    /**
     * What the kernel has for the network's device names: the links (null when absent), their IPv4 addresses,
     * the IPv4 routes of the main table through the VXLAN device, its IPv4 neighbours and FDB entries, the rules
     * whose input device is one of the two, and the devices whose IPv4 forwarding is on.
     */
    record Observed(Link bridge, List<LinkAddress> bridgeAddresses, Link vxlan, List<LinkAddress> vxlanAddresses,
                    List<Rule> rules, List<Neighbour> neighbours, List<FdbEntry> fdb, List<Route> routes,
                    Set<String> forwarding) {
        static Observed nothing() {
            return new Observed(null, List.of(), null, List.of(), List.of(), List.of(), List.of(), List.of(), Set.of());
        }
    }

    static Desired desired(Network network, HostLease self, Collection<HostLease> remotes, int underlayIndex,
                           int underlayMtu, int vxlanPort) {
        if (!self.subnet().isIpv4()) {
            throw new IllegalArgumentException("IPv4 subnets only: " + self.subnet());
        }
        String bridge = OverlayNames.bridge(network);
        String vx = OverlayNames.vxlan(network);
        int mtu = network.mtu() != 0 ? network.mtu() : underlayMtu - UnderlaySettings.VXLAN_OVERHEAD;
        VxlanSpec spec = new VxlanSpec(vx, network.vni(), vxlanPort, self.underlay(), underlayIndex, false);
        List<Rule> rules = List.of(
                Rule.lookup(RULE_LOOKUP_PRIORITY, bridge, network.cidr(), Rule.MAIN_TABLE),
                Rule.lookup(RULE_LOOKUP_PRIORITY, vx, network.cidr(), Rule.MAIN_TABLE),
                Rule.unreachable(RULE_UNREACHABLE_PRIORITY, bridge),
                Rule.unreachable(RULE_UNREACHABLE_PRIORITY, vx));
        List<Neighbour> neighbours = new ArrayList<>();
        List<FdbEntry> fdb = new ArrayList<>();
        List<Route> routes = new ArrayList<>();
        List<HostLease> sorted = remotes.stream()
                .filter(r -> !r.host().equals(self.host()))
                .sorted(Comparator.comparing(HostLease::host)).toList();
        for (HostLease r : sorted) {
            if (!r.network().equals(self.network())) {
                throw new IllegalArgumentException("lease of " + r.host() + " is for network " + r.network()
                        + ", not " + self.network());
            }
            InetAddress vtep = r.subnet().address();
            neighbours.add(new Neighbour(vx, vtep, r.vtepMac(), true));
            fdb.add(new FdbEntry(vx, r.vtepMac(), r.underlay()));
            routes.add(Route.onlink(r.subnet(), vtep, vx));
        }
        return new Desired(bridge, bridgeMac(self.host(), network.id()),
                new LinkAddress(bridge, gateway(self.subnet()), self.subnet().length()),
                spec, self.vtepMac(), new LinkAddress(vx, self.subnet().address(), 32), mtu, rules,
                List.copyOf(neighbours), List.copyOf(fdb), List.copyOf(routes));
    }

    /** The first host address of a subnet: the gateway, held by the bridge. */
    static Inet4Address gateway(IpPrefix subnet) {
        return HostLease.gateway(subnet);
    }

    /**
     * A fixed MAC for the bridge, derived from (host, network ID): set explicitly, the bridge keeps it when ports
     * come and go (else it takes the lowest port MAC, and containers' ARP entries for the gateway go stale), and
     * a restarted agent computes the same one.
     */
    static MacAddress bridgeMac(String host, String networkId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest(("bridge\u0000" + host + "\u0000" + networkId).getBytes(StandardCharsets.UTF_8));
            byte[] mac = new byte[6];
            System.arraycopy(h, 0, mac, 0, 6);
            mac[0] = (byte) ((mac[0] & 0xfc) | 0x02); // locally administered, unicast
            return MacAddress.of(mac);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<OverlayOp> plan(Desired d, Observed o) {
        List<OverlayOp> ops = new ArrayList<>();
        // the bridge
        boolean bridgeNew = o.bridge() == null || !"bridge".equals(o.bridge().kind());
        if (o.bridge() != null && bridgeNew) {
            ops.add(new DeleteLink(d.bridge())); // our name on a device of another kind
        }
        device(ops, bridgeNew ? new CreateBridge(d.bridge()) : null, d.bridge(), bridgeNew ? null : o.bridge(),
                d.bridgeMac(), d.mtu(), d.gateway(), bridgeNew ? List.of() : o.bridgeAddresses());
        // the VXLAN device: its VNI, port, local address, underlay device and learning cannot be changed
        boolean vxlanNew = o.vxlan() == null || !d.vxlan().equals(o.vxlan().vxlan());
        if (o.vxlan() != null && vxlanNew) {
            ops.add(new DeleteLink(d.vxlan().name()));
        }
        device(ops, vxlanNew ? new CreateVxlan(d.vxlan()) : null, d.vxlan().name(), vxlanNew ? null : o.vxlan(),
                d.vtepMac(), d.mtu(), d.vtepAddress(), vxlanNew ? List.of() : o.vxlanAddresses());
        if (bridgeNew || !o.forwarding().contains(d.bridge())) {
            ops.add(new EnableForwarding(d.bridge()));
        }
        if (vxlanNew || !o.forwarding().contains(d.vxlan().name())) {
            ops.add(new EnableForwarding(d.vxlan().name()));
        }
        // isolation rules (they outlive the devices, so they are compared even for new devices)
        for (Rule r : o.rules()) {
            if (!d.rules().contains(r)) {
                ops.add(new DeleteRule(r));
            }
        }
        Set<Rule> haveRules = new HashSet<>(o.rules());
        for (Rule r : d.rules()) {
            if (!haveRules.contains(r)) {
                ops.add(new AddRule(r));
            }
        }
        // remote hosts: stale entries first (route, FDB, neighbour), then neighbour, FDB, route per host
        List<Route> routes = vxlanNew ? List.of() : o.routes();
        List<FdbEntry> fdb = vxlanNew ? List.of() : o.fdb();
        // a new MAC on the VXLAN device makes the kernel flush its neighbours, permanent ones included
        boolean vxlanMacChanges = vxlanNew || !d.vtepMac().equals(o.vxlan().mac());
        List<Neighbour> neighbours = vxlanMacChanges ? List.of() : o.neighbours();
        Set<IpPrefix> wantedDestinations = d.routes().stream().map(Route::destination).collect(Collectors.toSet());
        for (Route r : routes) {
            if (!wantedDestinations.contains(r.destination())) {
                ops.add(new DeleteRoute(r)); // replaced in place when the destination is still wanted
            }
        }
        Set<MacAddress> wantedMacs = d.fdb().stream().map(FdbEntry::mac).collect(Collectors.toSet());
        for (FdbEntry e : fdb) {
            if (!d.fdb().contains(e) && (!wantedMacs.contains(e.mac())
                    || fdb.stream().filter(x -> x.mac().equals(e.mac())).count() > 1)) {
                ops.add(new DeleteFdb(e));
            }
        }
        Set<InetAddress> wantedIps = d.neighbours().stream().map(Neighbour::address).collect(Collectors.toSet());
        for (Neighbour n : neighbours) {
            if (n.mac() != null && !wantedIps.contains(n.address())) {
                ops.add(new DeleteNeighbour(n));
            }
        }
        for (int i = 0; i < d.routes().size(); i++) {
            Neighbour n = d.neighbours().get(i);
            FdbEntry e = d.fdb().get(i);
            Route r = d.routes().get(i);
            if (!neighbours.contains(n)) {
                ops.add(new ReplaceNeighbour(n));
            }
            if (!fdb.contains(e) || fdb.stream().filter(x -> x.mac().equals(e.mac())).count() > 1) {
                ops.add(new ReplaceFdb(e));
            }
            if (!routes.contains(r)) {
                ops.add(new ReplaceRoute(r));
            }
        }
        return List.copyOf(ops);
    }

    /** Create (if {@code create} is set), then MAC, MTU, addresses and up, each only where it differs. */
    private static void device(List<OverlayOp> ops, OverlayOp create, String name, Link have, MacAddress mac, int mtu,
                               LinkAddress address, List<LinkAddress> haveAddresses) {
        if (create != null) {
            ops.add(create);
        }
        if (have == null || !Objects.equals(mac, have.mac())) {
            ops.add(new SetMac(name, mac));
        }
        if (have == null || have.mtu() != mtu) {
            ops.add(new SetMtu(name, mtu));
        }
        for (LinkAddress a : haveAddresses) {
            if (!a.equals(address)) {
                ops.add(new DeleteAddress(a));
            }
        }
        if (!haveAddresses.contains(address)) {
            ops.add(new AddAddress(address));
        }
        if (have == null || !have.up()) {
            ops.add(new SetUp(name));
        }
    }
}
