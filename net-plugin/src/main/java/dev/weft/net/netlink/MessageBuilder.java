package dev.weft.net.netlink;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One netlink request: the {@code nlmsghdr}, a fixed family header written with the {@code u8/u16/u32} calls,
 * then attributes (TLVs padded to 4 bytes, nestable with {@link #beginNested}/{@link #endNested}). Host byte
 * order, as netlink wants, except where an attribute says network order.
 */
final class MessageBuilder {
    private final int flags;
    private ByteBuffer buf = ByteBuffer.allocate(256).order(ByteOrder.nativeOrder());

    MessageBuilder(int type, int flags) {
        this.flags = flags;
        buf.putInt(0);              // nlmsg_len, set by build()
        buf.putShort((short) type);
        buf.putShort((short) flags);
        buf.putInt(0);              // nlmsg_seq, set by build()
        buf.putInt(0);              // nlmsg_pid: 0, the kernel fills in the sender
    }

    int flags() {
        return flags;
    }

    MessageBuilder u8(int v) {
        ensure(1);
        buf.put((byte) v);
        return this;
    }

    MessageBuilder u16(int v) {
        ensure(2);
        buf.putShort((short) v);
        return this;
    }

    MessageBuilder u32(int v) {
        ensure(4);
        buf.putInt(v);
        return this;
    }

    /** A {@code struct ifinfomsg}. */
    MessageBuilder ifinfomsg(int family, int index, int ifFlags, int change) {
        return u8(family).u8(0).u16(0).u32(index).u32(ifFlags).u32(change);
    }

    /** A {@code struct ifaddrmsg}. */
    MessageBuilder ifaddrmsg(int family, int prefixLength, int scope, int index) {
        return u8(family).u8(prefixLength).u8(0).u8(scope).u32(index);
    }

    /** A {@code struct rtmsg}. */
    MessageBuilder rtmsg(int family, int dstLength, int table, int protocol, int scope, int type, int rtFlags) {
        return u8(family).u8(dstLength).u8(0).u8(0).u8(table).u8(protocol).u8(scope).u8(type).u32(rtFlags);
    }

    /** A {@code struct ndmsg}. */
    MessageBuilder ndmsg(int family, int index, int state, int ndFlags) {
        return u8(family).u8(0).u16(0).u32(index).u16(state).u8(ndFlags).u8(0);
    }

    MessageBuilder attr(int type, byte[] value) {
        int len = Rtnl.NLA_HDRLEN + value.length;
        ensure(align(len));
        buf.putShort((short) len);
        buf.putShort((short) type);
        buf.put(value);
        pad();
        return this;
    }

    MessageBuilder attrU8(int type, int v) {
        return attr(type, new byte[] {(byte) v});
    }

    MessageBuilder attrU32(int type, int v) {
        return attr(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array());
    }

    /** A 16-bit value in network byte order (ports). */
    MessageBuilder attrU16BigEndian(int type, int v) {
        return attr(type, ByteBuffer.allocate(2).order(ByteOrder.BIG_ENDIAN).putShort((short) v).array());
    }

    /** A NUL-terminated string. */
    MessageBuilder attrString(int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return attr(type, Arrays.copyOf(b, b.length + 1));
    }

    /** 4 or 16 bytes, network order. */
    MessageBuilder attrAddress(int type, InetAddress a) {
        return attr(type, a.getAddress());
    }

    /**
     * Starts a nested attribute; returns the token to pass to {@link #endNested}. Like iproute2, without
     * {@code NLA_F_NESTED}: rtnetlink's link attributes are parsed liberally, and {@code VETH_INFO_PEER} is not
     * a plain attribute list (it starts with an {@code ifinfomsg}).
     */
    int beginNested(int type) {
        ensure(Rtnl.NLA_HDRLEN);
        int start = buf.position();
        buf.putShort((short) 0);
        buf.putShort((short) type);
        return start;
    }

    /** Ends the nested attribute begun at {@code start}: sets its length to cover everything since. */
    MessageBuilder endNested(int start) {
        buf.putShort(start, (short) (buf.position() - start));
        return this;
    }

    /** The bytes to send, with the total length and {@code seq} filled in. */
    byte[] build(int seq) {
        int len = buf.position();
        byte[] out = Arrays.copyOf(buf.array(), len);
        ByteBuffer view = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        view.putInt(0, len);
        view.putInt(8, seq);
        return out;
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    private void pad() {
        while ((buf.position() & 3) != 0) {
            buf.put((byte) 0);
        }
    }

    private void ensure(int more) {
        if (buf.remaining() < more) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + more))
                    .order(ByteOrder.nativeOrder());
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
    }
}
