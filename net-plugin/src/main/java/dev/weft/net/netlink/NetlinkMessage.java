package dev.weft.net.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One received netlink message: the {@code nlmsghdr} fields and the payload after the header.
 */
record NetlinkMessage(int type, int flags, int seq, int pid, byte[] payload) {

    /** A little- (host-) endian view of the payload. */
    ByteBuffer body() {
        return ByteBuffer.wrap(payload).order(ByteOrder.nativeOrder());
    }

    /**
     * Splits what one {@code recv} returned into messages (each starts 4-byte aligned).
     *
     * @throws IllegalStateException when a header's length is impossible (corrupt input)
     */
    static List<NetlinkMessage> parseAll(byte[] data, int length) {
        ByteBuffer b = ByteBuffer.wrap(data, 0, length).order(ByteOrder.nativeOrder());
        List<NetlinkMessage> out = new ArrayList<>();
        int pos = 0;
        while (length - pos >= Rtnl.NLMSG_HDRLEN) {
            int len = b.getInt(pos);
            if (len < Rtnl.NLMSG_HDRLEN || len > length - pos) {
                throw new IllegalStateException("corrupt netlink message: length " + len + " at offset " + pos
                        + " of " + length);
            }
            int type = Short.toUnsignedInt(b.getShort(pos + 4));
            int flags = Short.toUnsignedInt(b.getShort(pos + 6));
            int seq = b.getInt(pos + 8);
            int pid = b.getInt(pos + 12);
            byte[] payload = new byte[len - Rtnl.NLMSG_HDRLEN];
            System.arraycopy(data, pos + Rtnl.NLMSG_HDRLEN, payload, 0, payload.length);
            out.add(new NetlinkMessage(type, flags, seq, pid, payload));
            pos += MessageBuilder.align(len);
        }
        return out;
    }
}
