package dev.weft.net.netlink;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A network prefix such as {@code 10.42.0.0/16}: the address always has its host bits cleared.
 */
public record IpPrefix(InetAddress address, int length) {

    public IpPrefix {
        int bits = address.getAddress().length * 8;
        if (length < 0 || length > bits) {
            throw new IllegalArgumentException("prefix length " + length + " out of range for " + address);
        }
        address = mask(address, length);
    }

    /** Parses {@code 10.42.0.0/16}, {@code fd00::/64}; without {@code /len}, a host prefix. Literals only. */
    public static IpPrefix parse(String s) {
        int slash = s.indexOf('/');
        InetAddress a = literal(slash < 0 ? s : s.substring(0, slash));
        int len = slash < 0 ? a.getAddress().length * 8 : Integer.parseInt(s.substring(slash + 1));
        return new IpPrefix(a, len);
    }

    /** An IP literal, never a name lookup. */
    public static InetAddress literal(String s) {
        String t = s.trim();
        if (t.isEmpty() || !t.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
            throw new IllegalArgumentException("not an IP address: " + s);
        }
        try {
            return InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + s, e);
        }
    }

    public boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    private static InetAddress mask(InetAddress a, int length) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, length - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
