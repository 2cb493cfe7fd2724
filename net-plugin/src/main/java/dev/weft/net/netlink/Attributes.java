package dev.weft.net.netlink;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The attributes (TLVs) of a received message or nested attribute, by type. Flags in the type
 * ({@code NLA_F_NESTED}, {@code NLA_F_NET_BYTEORDER}) are masked off; when a type repeats the last one wins.
 */
final class Attributes {
    private final Map<Integer, byte[]> values = new HashMap<>();

    private Attributes() {
    }

    /** Parses the TLVs in {@code data[from, to)}; a truncated trailing attribute ends the list. */
    static Attributes parse(byte[] data, int from, int to) {
        Attributes a = new Attributes();
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
        int pos = from;
        while (to - pos >= Rtnl.NLA_HDRLEN) {
            int len = Short.toUnsignedInt(b.getShort(pos));
            int type = Short.toUnsignedInt(b.getShort(pos + 2)) & Rtnl.NLA_TYPE_MASK;
            if (len < Rtnl.NLA_HDRLEN || len > to - pos) {
                break;
            }
            a.values.put(type, Arrays.copyOfRange(data, pos + Rtnl.NLA_HDRLEN, pos + len));
            pos += MessageBuilder.align(len);
        }
        return a;
    }

    /** The attributes after a fixed family header of {@code headerLength} bytes in a message's payload. */
    static Attributes of(NetlinkMessage m, int headerLength) {
        return parse(m.payload(), MessageBuilder.align(headerLength), m.payload().length);
    }

    boolean has(int type) {
        return values.containsKey(type);
    }

    byte[] bytes(int type) {
        return values.get(type);
    }

    /** A NUL-terminated string, or null. */
    String string(int type) {
        byte[] v = values.get(type);
        if (v == null) {
            return null;
        }
        int end = 0;
        while (end < v.length && v[end] != 0) {
            end++;
        }
        return new String(v, 0, end, StandardCharsets.UTF_8);
    }

    int u8(int type, int absent) {
        byte[] v = values.get(type);
        return v == null || v.length < 1 ? absent : Byte.toUnsignedInt(v[0]);
    }

    int u32(int type, int absent) {
        byte[] v = values.get(type);
        return v == null || v.length < 4 ? absent : ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getInt();
    }

    /** A 16-bit value in network byte order (ports). */
    int u16BigEndian(int type, int absent) {
        byte[] v = values.get(type);
        return v == null || v.length < 2 ? absent : Short.toUnsignedInt(ByteBuffer.wrap(v).getShort());
    }

    /** A 4- or 16-byte address, or null (also for other lengths). */
    InetAddress address(int type) {
        byte[] v = values.get(type);
        if (v == null || (v.length != 4 && v.length != 16)) {
            return null;
        }
        try {
            return InetAddress.getByAddress(v);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // only thrown for other lengths
        }
    }

    /** A nested attribute's attributes, or null when absent. */
    Attributes nested(int type) {
        byte[] v = values.get(type);
        return v == null ? null : parse(v, 0, v.length);
    }
}
