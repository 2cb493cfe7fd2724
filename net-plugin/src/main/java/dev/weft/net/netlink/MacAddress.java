package dev.weft.net.netlink;

import java.util.Arrays;
import java.util.HexFormat;

/** A 48-bit Ethernet address, written {@code 02:42:ac:11:00:02}. */
public final class MacAddress {
    /** {@code 00:00:00:00:00:00}: in a VXLAN FDB, the default destination for unknown and broadcast frames. */
    public static final MacAddress ZERO = new MacAddress(new byte[6]);

    private final byte[] bytes;

    private MacAddress(byte[] bytes) {
        this.bytes = bytes;
    }

    public static MacAddress of(byte[] bytes) {
        if (bytes.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + bytes.length);
        }
        return new MacAddress(bytes.clone());
    }

    /** Parses {@code aa:bb:cc:dd:ee:ff} (also with {@code -}, any case). */
    public static MacAddress parse(String s) {
        String[] parts = s.trim().split("[:-]");
        if (parts.length != 6) {
            throw new IllegalArgumentException("not a MAC address: " + s);
        }
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (parts[i].isEmpty() || parts[i].length() > 2) {
                throw new IllegalArgumentException("not a MAC address: " + s);
            }
            try {
                b[i] = (byte) Integer.parseInt(parts[i], 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a MAC address: " + s, e);
            }
        }
        return new MacAddress(b);
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return HexFormat.ofDelimiter(":").formatHex(bytes);
    }
}
