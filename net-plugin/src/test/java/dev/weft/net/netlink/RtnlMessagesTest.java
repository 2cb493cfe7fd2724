package dev.weft.net.netlink;

import static dev.weft.net.netlink.Rtnl.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/** Encoding and decoding without a kernel: header fields, TLV alignment, nesting, byte orders, errors. */
class RtnlMessagesTest {

    private static NetlinkMessage roundTrip(MessageBuilder m, int seq) {
        byte[] bytes = m.build(seq);
        List<NetlinkMessage> all = NetlinkMessage.parseAll(bytes, bytes.length);
        assertEquals(1, all.size());
        return all.get(0);
    }

    private static int shortAt(byte[] b, int offset) {
        return Short.toUnsignedInt(ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getShort(offset));
    }

    @Test
    void headerCarriesLengthTypeFlagsAndSequence() {
        byte[] bytes = RtnlMessages.deleteLink("wft0").build(42);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
        assertEquals(bytes.length, b.getInt(0));
        assertEquals(RTM_DELLINK, b.getShort(4));
        assertEquals(NLM_F_REQUEST | NLM_F_ACK, b.getShort(6));
        assertEquals(42, b.getInt(8));
        assertEquals(0, b.getInt(12));
        // ifinfomsg (16) + IFNAME "wft0\0" (4 + 5, padded to 12)
        assertEquals(16 + 16 + 12, bytes.length);
        assertEquals(9, shortAt(bytes, 32));
        assertEquals(IFLA_IFNAME, shortAt(bytes, 34));
        assertArrayEquals(new byte[] {'w', 'f', 't', '0', 0, 0, 0, 0}, Arrays.copyOfRange(bytes, 36, 44));
    }

    @Test
    void attributesArePaddedToFourBytesAndParseBack() {
        MessageBuilder m = new MessageBuilder(RTM_NEWLINK, NLM_F_REQUEST).ifinfomsg(AF_UNSPEC, 0, 0, 0)
                .attrU8(100, 7)                 // 5 bytes -> 8
                .attrString(101, "abc")         // 8 bytes exactly
                .attrString(102, "abcd")        // 9 -> 12
                .attrU32(103, 0x01020304)
                .attrU16BigEndian(104, 4789);   // 6 -> 8
        byte[] bytes = m.build(1);
        assertEquals(16 + 16 + 8 + 8 + 12 + 8 + 8, bytes.length);
        assertEquals(0, bytes.length % 4);
        NetlinkMessage msg = NetlinkMessage.parseAll(bytes, bytes.length).get(0);
        Attributes a = Attributes.of(msg, IFINFOMSG_LEN);
        assertEquals(7, a.u8(100, -1));
        assertEquals("abc", a.string(101));
        assertEquals("abcd", a.string(102));
        assertEquals(0x01020304, a.u32(103, -1));
        assertEquals(4789, a.u16BigEndian(104, -1));
        assertArrayEquals(new byte[] {0x12, (byte) 0xb5}, a.bytes(104)); // network byte order
        assertFalse(a.has(105));
    }

    @Test
    void vethRequestNestsThePeerWithItsOwnIfinfomsg() {
        NetlinkMessage m = roundTrip(RtnlMessages.createVethPair("wfta", "wftb"), 3);
        assertEquals(RTM_NEWLINK, m.type());
        assertEquals(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, m.flags());
        Attributes a = Attributes.of(m, IFINFOMSG_LEN);
        assertEquals("wfta", a.string(IFLA_IFNAME));
        Attributes info = a.nested(IFLA_LINKINFO);
        assertEquals("veth", info.string(IFLA_INFO_KIND));
        byte[] peer = info.nested(IFLA_INFO_DATA).bytes(VETH_INFO_PEER);
        assertEquals(IFINFOMSG_LEN + 12, peer.length); // ifinfomsg + IFNAME "wftb\0" padded
        assertEquals("wftb", Attributes.parse(peer, IFINFOMSG_LEN, peer.length).string(IFLA_IFNAME));
        // the nested lengths add up: LINKINFO's payload is KIND (4+5 -> 12) and DATA (4 + PEER (4 + 28))
        assertEquals(12 + 4 + 4 + 28, a.bytes(IFLA_LINKINFO).length);
    }

    @Test
    void vethRequestCanPutThePeerInAnotherNamespaceWithAnMtu() {
        NetlinkMessage m = roundTrip(RtnlMessages.createVethPair("wfta", "wftb", 7, 1450), 4);
        Attributes a = Attributes.of(m, IFINFOMSG_LEN);
        assertEquals(1450, a.u32(IFLA_MTU, -1));
        byte[] peer = a.nested(IFLA_LINKINFO).nested(IFLA_INFO_DATA).bytes(VETH_INFO_PEER);
        Attributes p = Attributes.parse(peer, IFINFOMSG_LEN, peer.length);
        assertEquals("wftb", p.string(IFLA_IFNAME));
        assertEquals(1450, p.u32(IFLA_MTU, -1));
        assertEquals(7, p.u32(IFLA_NET_NS_FD, -1));
        // without them, the request is the plain one
        assertEquals(-1, Attributes.of(roundTrip(RtnlMessages.createVethPair("wfta", "wftb"), 5), IFINFOMSG_LEN)
                .u32(IFLA_MTU, -1));
    }

    @Test
    void vxlanRequestHasIdPortInNetworkOrderLocalAndLearningOff() {
        Inet4Address local = (Inet4Address) IpPrefix.literal("192.0.2.7");
        VxlanSpec spec = VxlanSpec.of("wftv0", 42, 4789, local).withUnderlay(3);
        Attributes data = Attributes.of(roundTrip(RtnlMessages.createVxlan(spec), 1), IFINFOMSG_LEN)
                .nested(IFLA_LINKINFO).nested(IFLA_INFO_DATA);
        assertEquals(42, data.u32(IFLA_VXLAN_ID, -1));
        assertArrayEquals(new byte[] {0x12, (byte) 0xb5}, data.bytes(IFLA_VXLAN_PORT));
        assertArrayEquals(new byte[] {(byte) 192, 0, 2, 7}, data.bytes(IFLA_VXLAN_LOCAL));
        assertEquals(3, data.u32(IFLA_VXLAN_LINK, -1));
        assertArrayEquals(new byte[] {0}, data.bytes(IFLA_VXLAN_LEARNING));
    }

    @Test
    void decodesALinkWithItsVxlanParameters() {
        Inet4Address local = (Inet4Address) IpPrefix.literal("192.0.2.7");
        MacAddress mac = MacAddress.parse("02:42:ac:11:00:02");
        MessageBuilder reply = new MessageBuilder(RTM_NEWLINK, 0).ifinfomsg(AF_UNSPEC, 7, IFF_UP | 0x40, 0)
                .attrString(IFLA_IFNAME, "wftv0")
                .attrU32(IFLA_MTU, 1450)
                .attr(IFLA_ADDRESS, mac.bytes())
                .attrU32(IFLA_MASTER, 5);
        int info = reply.beginNested(IFLA_LINKINFO);
        reply.attrString(IFLA_INFO_KIND, "vxlan");
        int data = reply.beginNested(IFLA_INFO_DATA);
        reply.attrU32(IFLA_VXLAN_ID, 42).attrU16BigEndian(IFLA_VXLAN_PORT, 4790).attrAddress(IFLA_VXLAN_LOCAL, local)
                .attrU8(IFLA_VXLAN_LEARNING, 0);
        reply.endNested(data);
        reply.endNested(info);
        Link link = RtnlMessages.decodeLink(roundTrip(reply, 9));
        assertEquals(new Link(7, "wftv0", "vxlan", 1450, mac, true, 5,
                VxlanSpec.of("wftv0", 42, 4790, local)), link);
    }

    @Test
    void errorMessagesCarryErrnoAndTheKernelsText() {
        MessageBuilder error = new MessageBuilder(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS)
                .u32(-17)
                .u32(36).u16(RTM_NEWLINK).u16(0x605).u32(3).u32(0) // the echoed request header (capped)
                .attrString(NLMSGERR_ATTR_MSG, "Device already exists");
        NetlinkMessage m = roundTrip(error, 3);
        assertEquals(17, RtnlMessages.errorCode(m));
        assertEquals("Device already exists", RtnlMessages.extAckMessage(m));

        NetlinkMessage ack = roundTrip(new MessageBuilder(NLMSG_ERROR, NLM_F_CAPPED).u32(0)
                .u32(16).u16(RTM_NEWLINK).u16(5).u32(4).u32(0), 4);
        assertEquals(0, RtnlMessages.errorCode(ack));
        assertNull(RtnlMessages.extAckMessage(ack));
    }

    @Test
    void splitsSeveralMessagesAndRejectsImpossibleLengths() {
        byte[] one = RtnlMessages.getLink("lo").build(1);
        byte[] two = RtnlMessages.dumpLinks().build(2);
        byte[] both = new byte[one.length + two.length];
        System.arraycopy(one, 0, both, 0, one.length);
        System.arraycopy(two, 0, both, one.length, two.length);
        List<NetlinkMessage> all = NetlinkMessage.parseAll(both, both.length);
        assertEquals(List.of(1, 2), all.stream().map(NetlinkMessage::seq).toList());
        assertEquals(NLM_F_REQUEST | NLM_F_DUMP, all.get(1).flags());

        ByteBuffer.wrap(one).order(ByteOrder.nativeOrder()).putInt(0, one.length + 4);
        assertThrows(IllegalStateException.class, () -> NetlinkMessage.parseAll(one, one.length));
    }

    @Test
    void routeNeighbourAndFdbRequests() {
        Route r = Route.onlink(IpPrefix.parse("10.98.0.0/24"), IpPrefix.literal("192.168.213.2"), "a0");
        NetlinkMessage m = roundTrip(RtnlMessages.replaceRoute(r, 4), 1);
        assertEquals(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, m.flags());
        byte[] p = m.payload();
        assertEquals(AF_INET, p[0]);
        assertEquals(24, p[1]);
        assertEquals(RT_TABLE_MAIN, Byte.toUnsignedInt(p[4]));
        assertEquals(RT_SCOPE_UNIVERSE, p[6]);
        assertEquals(RTNH_F_ONLINK, m.body().getInt(8));
        Attributes a = Attributes.of(m, RTMSG_LEN);
        assertEquals(IpPrefix.literal("10.98.0.0"), a.address(RTA_DST));
        assertEquals(IpPrefix.literal("192.168.213.2"), a.address(RTA_GATEWAY));
        assertEquals(4, a.u32(RTA_OIF, -1));
        assertEquals(r, RtnlMessages.decodeRoute(m, i -> i == 4 ? "a0" : null)); // same layout as a reply

        MacAddress mac = MacAddress.parse("02:00:00:00:00:02");
        NetlinkMessage fdb = roundTrip(RtnlMessages.appendFdb(6, mac, IpPrefix.literal("10.213.1.2")), 2);
        assertEquals(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, fdb.flags());
        assertEquals(AF_BRIDGE, RtnlMessages.neighbourFamily(fdb));
        assertEquals(6, RtnlMessages.neighbourIndex(fdb));
        assertEquals(NUD_PERMANENT, fdb.body().getShort(8));
        assertEquals(NTF_SELF, fdb.payload()[10]);
        assertEquals(new FdbEntry("vx", mac, IpPrefix.literal("10.213.1.2")), RtnlMessages.decodeFdb(fdb, "vx"));

        NetlinkMessage neigh = roundTrip(
                RtnlMessages.replaceNeighbour(6, IpPrefix.literal("10.214.0.2"), mac, true), 3);
        assertEquals(new Neighbour("vx", IpPrefix.literal("10.214.0.2"), mac, true),
                RtnlMessages.decodeNeighbour(neigh, "vx"));
    }

    @Test
    void valuesAndNames() {
        assertEquals("02:42:ac:11:00:02", MacAddress.parse("02-42-AC-11-00-02").toString());
        assertThrows(IllegalArgumentException.class, () -> MacAddress.parse("02:42:ac:11:00"));
        assertEquals("10.42.0.0/16", IpPrefix.parse("10.42.7.9/16").toString());
        assertEquals("0.0.0.0/0", IpPrefix.parse("1.2.3.4/0").toString());
        assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse("example.com/8"));
        assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse("10.0.0.0/33"));
        assertEquals("EEXIST", Errno.valueOf(17).name());
        assertEquals("E4095", Errno.valueOf(4095).name());
        assertEquals("create vxlan wftv0: File exists (EEXIST)",
                new NetlinkException("create vxlan wftv0", 17, null).getMessage());
        assertTrue(new NetlinkException("delete link x", 19, null).isNotFound());
        assertNotNull(RtnlMessages.checkName("fifteen-chars15"));
        assertThrows(IllegalArgumentException.class, () -> RtnlMessages.checkName("sixteen-chars-16"));
        assertThrows(IllegalArgumentException.class, () -> RtnlMessages.checkName("a/b"));
        assertThrows(IllegalArgumentException.class, () -> VxlanSpec.of("vx", 1 << 24, 4789, null));
    }
}
