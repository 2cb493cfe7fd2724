package dev.weft.net.dataplane;

import dev.weft.net.netlink.FdbEntry;
import dev.weft.net.netlink.LinkAddress;
import dev.weft.net.netlink.MacAddress;
import dev.weft.net.netlink.Neighbour;
import dev.weft.net.netlink.Route;
import dev.weft.net.netlink.Rule;
import dev.weft.net.netlink.VxlanSpec;

/**
 * One kernel change of the overlay, as planned by {@link OverlayPlanner} and applied by {@link DataPlane}. The
 * {@code toString} of each reads like the {@code ip} command that would do the same, for logs and tests.
 */
public sealed interface OverlayOp {
    record CreateBridge(String name) implements OverlayOp {
        @Override
        public String toString() {
            return "link add " + name + " type bridge";
        }
    }

    record CreateVxlan(VxlanSpec spec) implements OverlayOp {
        @Override
        public String toString() {
            return "link add " + spec.name() + " type vxlan id " + spec.vni() + " dstport " + spec.port() + " local "
                    + spec.local().getHostAddress() + " dev #" + spec.underlayIndex()
                    + (spec.learning() ? "" : " nolearning");
        }
    }

    record DeleteLink(String name) implements OverlayOp {
        @Override
        public String toString() {
            return "link del " + name;
        }
    }

    record SetMac(String device, MacAddress mac) implements OverlayOp {
        @Override
        public String toString() {
            return "link set " + device + " address " + mac;
        }
    }

    record SetMtu(String device, int mtu) implements OverlayOp {
        @Override
        public String toString() {
            return "link set " + device + " mtu " + mtu;
        }
    }

    record SetUp(String device) implements OverlayOp {
        @Override
        public String toString() {
            return "link set " + device + " up";
        }
    }

    /** {@code net.ipv4.conf.DEVICE.forwarding=1}: packets entering on the device may be routed. */
    record EnableForwarding(String device) implements OverlayOp {
        @Override
        public String toString() {
            return "sysctl net.ipv4.conf." + device + ".forwarding=1";
        }
    }

    record AddAddress(LinkAddress address) implements OverlayOp {
        @Override
        public String toString() {
            return "addr add " + address;
        }
    }

    record DeleteAddress(LinkAddress address) implements OverlayOp {
        @Override
        public String toString() {
            return "addr del " + address;
        }
    }

    record AddRule(Rule rule) implements OverlayOp {
        @Override
        public String toString() {
            return "rule add " + rule;
        }
    }

    record DeleteRule(Rule rule) implements OverlayOp {
        @Override
        public String toString() {
            return "rule del " + rule;
        }
    }

    record ReplaceNeighbour(Neighbour neighbour) implements OverlayOp {
        @Override
        public String toString() {
            return "neigh replace " + neighbour;
        }
    }

    record DeleteNeighbour(Neighbour neighbour) implements OverlayOp {
        @Override
        public String toString() {
            return "neigh del " + neighbour;
        }
    }

    record ReplaceFdb(FdbEntry entry) implements OverlayOp {
        @Override
        public String toString() {
            return "fdb replace " + entry;
        }
    }

    record DeleteFdb(FdbEntry entry) implements OverlayOp {
        @Override
        public String toString() {
            return "fdb del " + entry;
        }
    }

    record ReplaceRoute(Route route) implements OverlayOp {
        @Override
        public String toString() {
            return "route replace " + route;
        }
    }

    record DeleteRoute(Route route) implements OverlayOp {
        @Override
        public String toString() {
            return "route del " + route;
        }
    }
}
