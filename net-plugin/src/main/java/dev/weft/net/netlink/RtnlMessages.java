package dev.weft.net.netlink;

import static dev.weft.net.netlink.Rtnl.*;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.IntFunction;

/**
 * Pure encoding and decoding of rtnetlink messages: requests as {@link MessageBuilder}s (sequence number set at
 * send time), replies into records. No I/O; device names that need an index are resolved by the caller.
 */
final class RtnlMessages {
    private static final int ACK = NLM_F_REQUEST | NLM_F_ACK;
    private static final int CREATE = ACK | NLM_F_CREATE | NLM_F_EXCL;
    private static final int REPLACE = ACK | NLM_F_CREATE | NLM_F_REPLACE;
    private static final int DUMP = NLM_F_REQUEST | NLM_F_DUMP;

    private RtnlMessages() {
    }

    /** Device names are 1…15 bytes without {@code /}, NUL or whitespace (the kernel's {@code dev_valid_name}). */
    static String checkName(String name) {
        if (name == null || name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ
                || name.equals(".") || name.equals("..")
                || name.chars().anyMatch(c -> c == '/' || c == ':' || c == 0 || Character.isWhitespace(c))) {
            throw new IllegalArgumentException("invalid device name '" + name + "' (1-15 bytes, no '/', ':' "
                    + "or whitespace)");
        }
        return name;
    }

    // ---- links

    static MessageBuilder createVethPair(String name, String peer) {
        return createVethPair(name, peer, -1, 0);
    }

    /**
     * A veth pair whose peer is created directly in the namespace of {@code peerNetnsFd} (when {@code >= 0}) and
     * with {@code mtu} on both ends (when {@code > 0}): one request, and no device move (a move waits for an RCU
     * grace period, tens of milliseconds on a busy machine).
     */
    static MessageBuilder createVethPair(String name, String peer, int peerNetnsFd, int mtu) {
        MessageBuilder m = newLink(name);
        if (mtu > 0) {
            m.attrU32(IFLA_MTU, mtu);
        }
        int info = m.beginNested(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, "veth");
        int data = m.beginNested(IFLA_INFO_DATA);
        int p = m.beginNested(VETH_INFO_PEER);
        m.ifinfomsg(AF_UNSPEC, 0, 0, 0).attrString(IFLA_IFNAME, checkName(peer));
        if (mtu > 0) {
            m.attrU32(IFLA_MTU, mtu);
        }
        if (peerNetnsFd >= 0) {
            m.attrU32(IFLA_NET_NS_FD, peerNetnsFd);
        }
        m.endNested(p);
        m.endNested(data);
        return m.endNested(info);
    }

    static MessageBuilder createBridge(String name) {
        MessageBuilder m = newLink(name);
        int info = m.beginNested(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, "bridge");
        return m.endNested(info);
    }

    static MessageBuilder createVxlan(VxlanSpec spec) {
        MessageBuilder m = newLink(spec.name());
        int info = m.beginNested(IFLA_LINKINFO);
        m.attrString(IFLA_INFO_KIND, "vxlan");
        int data = m.beginNested(IFLA_INFO_DATA);
        m.attrU32(IFLA_VXLAN_ID, spec.vni());
        m.attrU16BigEndian(IFLA_VXLAN_PORT, spec.port());
        if (spec.local() != null) {
            m.attrAddress(IFLA_VXLAN_LOCAL, spec.local());
        }
        if (spec.underlayIndex() > 0) {
            m.attrU32(IFLA_VXLAN_LINK, spec.underlayIndex());
        }
        m.attrU8(IFLA_VXLAN_LEARNING, spec.learning() ? 1 : 0);
        m.endNested(data);
        return m.endNested(info);
    }

    private static MessageBuilder newLink(String name) {
        return new MessageBuilder(RTM_NEWLINK, CREATE).ifinfomsg(AF_UNSPEC, 0, 0, 0)
                .attrString(IFLA_IFNAME, checkName(name));
    }

    static MessageBuilder deleteLink(String name) {
        return new MessageBuilder(RTM_DELLINK, ACK).ifinfomsg(AF_UNSPEC, 0, 0, 0)
                .attrString(IFLA_IFNAME, checkName(name));
    }

    static MessageBuilder getLink(String name) {
        return new MessageBuilder(RTM_GETLINK, ACK).ifinfomsg(AF_UNSPEC, 0, 0, 0)
                .attrString(IFLA_IFNAME, checkName(name));
    }

    static MessageBuilder getLink(int index) {
        return new MessageBuilder(RTM_GETLINK, ACK).ifinfomsg(AF_UNSPEC, index, 0, 0);
    }

    static MessageBuilder dumpLinks() {
        return new MessageBuilder(RTM_GETLINK, DUMP).ifinfomsg(AF_UNSPEC, 0, 0, 0);
    }

    /** Changes an existing device (found by index); the caller adds the attributes to change. */
    static MessageBuilder setLink(int index, int ifFlags, int change) {
        return new MessageBuilder(RTM_NEWLINK, ACK).ifinfomsg(AF_UNSPEC, index, ifFlags, change);
    }

    static Link decodeLink(NetlinkMessage m) {
        ByteBuffer b = m.body();
        int index = b.getInt(4);
        int flags = b.getInt(8);
        Attributes a = Attributes.of(m, IFINFOMSG_LEN);
        String name = a.string(IFLA_IFNAME);
        String kind = "";
        VxlanSpec vxlan = null;
        Attributes info = a.nested(IFLA_LINKINFO);
        if (info != null && info.string(IFLA_INFO_KIND) != null) {
            kind = info.string(IFLA_INFO_KIND);
            Attributes data = info.nested(IFLA_INFO_DATA);
            if (kind.equals("vxlan") && data != null) {
                InetAddress local = data.address(IFLA_VXLAN_LOCAL);
                vxlan = new VxlanSpec(name, data.u32(IFLA_VXLAN_ID, 0), data.u16BigEndian(IFLA_VXLAN_PORT, 8472),
                        local instanceof Inet4Address v4 ? v4 : null, data.u32(IFLA_VXLAN_LINK, 0),
                        data.u8(IFLA_VXLAN_LEARNING, 1) != 0);
            }
        }
        byte[] hw = a.bytes(IFLA_ADDRESS);
        return new Link(index, name, kind, a.u32(IFLA_MTU, 0), hw != null && hw.length == 6 ? MacAddress.of(hw) : null,
                (flags & IFF_UP) != 0, a.u32(IFLA_MASTER, 0), vxlan);
    }

    // ---- addresses

    static MessageBuilder address(int type, int index, InetAddress address, int prefixLength) {
        int family = family(address);
        int bits = address.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range for "
                    + address.getHostAddress());
        }
        int scope = address.isLoopbackAddress() ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
        return new MessageBuilder(type, type == RTM_NEWADDR ? CREATE : ACK)
                .ifaddrmsg(family, prefixLength, scope, index)
                .attrAddress(IFA_LOCAL, address)
                .attrAddress(IFA_ADDRESS, address);
    }

    static MessageBuilder dumpAddresses() {
        return new MessageBuilder(RTM_GETADDR, DUMP).ifaddrmsg(AF_UNSPEC, 0, 0, 0);
    }

    /** The index the address is on (from the {@code ifaddrmsg}). */
    static int addressIndex(NetlinkMessage m) {
        return m.body().getInt(4);
    }

    static LinkAddress decodeAddress(NetlinkMessage m, String device) {
        int prefixLength = Byte.toUnsignedInt(m.payload()[1]);
        Attributes a = Attributes.of(m, IFADDRMSG_LEN);
        InetAddress address = a.address(IFA_LOCAL);
        return new LinkAddress(device, address != null ? address : a.address(IFA_ADDRESS), prefixLength);
    }

    // ---- routes

    static MessageBuilder replaceRoute(Route r, int oif) {
        IpPrefix dst = r.destination();
        int scope = r.via() == null && dst.isIpv4() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        MessageBuilder m = new MessageBuilder(RTM_NEWROUTE, REPLACE)
                .rtmsg(family(dst.address()), dst.length(), RT_TABLE_MAIN, RTPROT_STATIC, scope, RTN_UNICAST,
                        r.onlink() ? RTNH_F_ONLINK : 0);
        return routeAttributes(m, r, oif);
    }

    static MessageBuilder deleteRoute(Route r, int oif) {
        IpPrefix dst = r.destination();
        // As `ip route del`: scope NOWHERE, type and protocol 0 match any; gateway and device narrow the match.
        MessageBuilder m = new MessageBuilder(RTM_DELROUTE, ACK)
                .rtmsg(family(dst.address()), dst.length(), RT_TABLE_MAIN, 0, RT_SCOPE_NOWHERE, 0, 0);
        return routeAttributes(m, r, oif);
    }

    private static MessageBuilder routeAttributes(MessageBuilder m, Route r, int oif) {
        m.attrU32(RTA_TABLE, RT_TABLE_MAIN);
        if (r.destination().length() > 0) {
            m.attrAddress(RTA_DST, r.destination().address());
        }
        if (r.via() != null) {
            m.attrAddress(RTA_GATEWAY, r.via());
        }
        if (oif > 0) {
            m.attrU32(RTA_OIF, oif);
        }
        return m;
    }

    static MessageBuilder dumpRoutes() {
        return new MessageBuilder(RTM_GETROUTE, DUMP).rtmsg(AF_UNSPEC, 0, 0, 0, 0, 0, 0);
    }

    /** A unicast route of the main table, or null for any other (local, broadcast, other tables, cached). */
    static Route decodeRoute(NetlinkMessage m, IntFunction<String> names) {
        byte[] p = m.payload();
        int family = Byte.toUnsignedInt(p[0]);
        int dstLength = Byte.toUnsignedInt(p[1]);
        int type = Byte.toUnsignedInt(p[7]);
        int flags = m.body().getInt(8);
        Attributes a = Attributes.of(m, RTMSG_LEN);
        int table = a.u32(RTA_TABLE, Byte.toUnsignedInt(p[4]));
        if ((family != AF_INET && family != AF_INET6) || table != RT_TABLE_MAIN || type != RTN_UNICAST
                || (flags & RTM_F_CLONED) != 0) {
            return null;
        }
        InetAddress dst = a.address(RTA_DST);
        if (dst == null) {
            dst = anyAddress(family);
        }
        int oif = a.u32(RTA_OIF, 0);
        return new Route(new IpPrefix(dst, dstLength), a.address(RTA_GATEWAY), oif > 0 ? names.apply(oif) : null,
                (flags & RTNH_F_ONLINK) != 0);
    }

    // ---- policy-routing rules (IPv4)

    static MessageBuilder addRule(Rule r) {
        return rule(RTM_NEWRULE, CREATE, r);
    }

    static MessageBuilder deleteRule(Rule r) {
        return rule(RTM_DELRULE, ACK, r);
    }

    private static MessageBuilder rule(int type, int flags, Rule r) {
        int table = r.table();
        MessageBuilder m = new MessageBuilder(type, flags)
                .u8(AF_INET).u8(r.destination() == null ? 0 : r.destination().length()).u8(0).u8(0)
                .u8(table < 256 ? table : 0).u8(0).u8(0)
                .u8(r.unreachable() ? FR_ACT_UNREACHABLE : FR_ACT_TO_TBL).u32(0);
        m.attrU32(FRA_PRIORITY, r.priority());
        if (r.inputDevice() != null) {
            m.attrString(FRA_IIFNAME, r.inputDevice());
        }
        if (r.destination() != null) {
            m.attrAddress(FRA_DST, r.destination().address());
        }
        if (!r.unreachable()) {
            m.attrU32(FRA_TABLE, table);
        }
        return m;
    }

    static MessageBuilder dumpRules() {
        return new MessageBuilder(RTM_GETRULE, DUMP).u8(AF_INET).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0);
    }

    /** An IPv4 rule with a lookup or unreachable action, or null for any other. */
    static Rule decodeRule(NetlinkMessage m) {
        byte[] p = m.payload();
        int family = Byte.toUnsignedInt(p[0]);
        int dstLength = Byte.toUnsignedInt(p[1]);
        int action = Byte.toUnsignedInt(p[7]);
        if (family != AF_INET || (action != FR_ACT_TO_TBL && action != FR_ACT_UNREACHABLE)) {
            return null;
        }
        Attributes a = Attributes.of(m, FIB_RULE_HDR_LEN);
        InetAddress dst = a.address(FRA_DST);
        int priority = a.u32(FRA_PRIORITY, 0);
        String iif = a.string(FRA_IIFNAME);
        if (action == FR_ACT_UNREACHABLE) {
            return new Rule(priority, iif, dst == null ? null : new IpPrefix(dst, dstLength), true, 0);
        }
        int table = a.u32(FRA_TABLE, Byte.toUnsignedInt(p[4]));
        return new Rule(priority, iif, dst == null ? null : new IpPrefix(dst, dstLength), false, table);
    }

    // ---- neighbours and FDB

    static MessageBuilder replaceNeighbour(int index, InetAddress ip, MacAddress mac, boolean permanent) {
        return new MessageBuilder(RTM_NEWNEIGH, REPLACE)
                .ndmsg(family(ip), index, permanent ? NUD_PERMANENT : NUD_REACHABLE, 0)
                .attrAddress(NDA_DST, ip)
                .attr(NDA_LLADDR, mac.bytes());
    }

    static MessageBuilder deleteNeighbour(int index, InetAddress ip) {
        return new MessageBuilder(RTM_DELNEIGH, ACK).ndmsg(family(ip), index, 0, 0).attrAddress(NDA_DST, ip);
    }

    static MessageBuilder dumpNeighbours(int family) {
        return new MessageBuilder(RTM_GETNEIGH, DUMP).ndmsg(family, 0, 0, 0);
    }

    /** The index of the device a neighbour or FDB entry is on. */
    static int neighbourIndex(NetlinkMessage m) {
        return m.body().getInt(4);
    }

    static int neighbourFamily(NetlinkMessage m) {
        return Byte.toUnsignedInt(m.payload()[0]);
    }

    static Neighbour decodeNeighbour(NetlinkMessage m, String device) {
        int state = Short.toUnsignedInt(m.body().getShort(8));
        Attributes a = Attributes.of(m, NDMSG_LEN);
        byte[] ll = a.bytes(NDA_LLADDR);
        return new Neighbour(device, a.address(NDA_DST), ll != null && ll.length == 6 ? MacAddress.of(ll) : null,
                (state & NUD_PERMANENT) != 0);
    }

    /** As {@code bridge fdb append MAC dev DEV dst IP self permanent}: adds one more destination for MAC. */
    static MessageBuilder appendFdb(int index, MacAddress mac, InetAddress dst) {
        return fdb(ACK | NLM_F_CREATE | NLM_F_APPEND, index, mac, dst);
    }

    /** As {@code bridge fdb replace MAC dev DEV dst IP self permanent}: MAC's one destination becomes IP. */
    static MessageBuilder replaceFdb(int index, MacAddress mac, InetAddress dst) {
        return fdb(REPLACE, index, mac, dst);
    }

    private static MessageBuilder fdb(int flags, int index, MacAddress mac, InetAddress dst) {
        return new MessageBuilder(RTM_NEWNEIGH, flags)
                .ndmsg(AF_BRIDGE, index, NUD_PERMANENT, NTF_SELF)
                .attr(NDA_LLADDR, mac.bytes())
                .attrAddress(NDA_DST, dst);
    }

    static MessageBuilder deleteFdb(int index, MacAddress mac, InetAddress dst) {
        MessageBuilder m = new MessageBuilder(RTM_DELNEIGH, ACK)
                .ndmsg(AF_BRIDGE, index, 0, NTF_SELF)
                .attr(NDA_LLADDR, mac.bytes());
        return dst == null ? m : m.attrAddress(NDA_DST, dst);
    }

    static FdbEntry decodeFdb(NetlinkMessage m, String device) {
        Attributes a = Attributes.of(m, NDMSG_LEN);
        byte[] ll = a.bytes(NDA_LLADDR);
        if (ll == null || ll.length != 6) {
            return null;
        }
        return new FdbEntry(device, MacAddress.of(ll), a.address(NDA_DST));
    }

    // ---- errors

    /**
     * The errno of an {@code NLMSG_ERROR} message: 0 for an ack, else positive. The kernel sends it negated.
     */
    static int errorCode(NetlinkMessage m) {
        return m.payload().length >= 4 ? -m.body().getInt(0) : Errno.EPROTO.code();
    }

    /**
     * The extended-ack text ({@code NLMSGERR_ATTR_MSG}) of an {@code NLMSG_ERROR} message, or null. The TLVs
     * follow the echoed request: only its header when the kernel capped it ({@code NETLINK_CAP_ACK}).
     */
    static String extAckMessage(NetlinkMessage m) {
        if ((m.flags() & NLM_F_ACK_TLVS) == 0 || m.payload().length < 4 + NLMSG_HDRLEN) {
            return null;
        }
        int echoed = (m.flags() & NLM_F_CAPPED) != 0 ? NLMSG_HDRLEN : m.body().getInt(4);
        int from = 4 + MessageBuilder.align(echoed);
        if (from > m.payload().length) {
            return null;
        }
        return Attributes.parse(m.payload(), from, m.payload().length).string(NLMSGERR_ATTR_MSG);
    }

    static int family(InetAddress a) {
        return a instanceof Inet4Address ? AF_INET : AF_INET6;
    }

    private static InetAddress anyAddress(int family) {
        return new IpPrefix(IpPrefix.literal(family == AF_INET ? "0.0.0.0" : "::"), 0).address();
    }
}
