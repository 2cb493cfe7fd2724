package dev.weft.net.docker;

import dev.weft.net.model.HostLease;

import dev.weft.net.netlink.IpPrefix;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.Optional;

/**
 * IPv4 arithmetic of the IPAM driver, pure: pool IDs ({@code weft:<cidr>}, so a pool ID means the same after a
 * restart), free blocks of the cluster range, gateways and {@code A.B.C.D/len} texts.
 */
final class DockerPools {
    static final String POOL_ID_PREFIX = "weft:";

    private DockerPools() {
    }

    static String poolId(IpPrefix pool) {
        return POOL_ID_PREFIX + pool;
    }

    /** @throws IllegalArgumentException when {@code id} is not one of ours */
    static IpPrefix parsePoolId(String id) {
        if (id == null || !id.startsWith(POOL_ID_PREFIX)) {
            throw new IllegalArgumentException("unknown pool ID '" + id + "' (weft's are weft:<cidr>)");
        }
        return parseCidr(id.substring(POOL_ID_PREFIX.length()), "pool ID");
    }

    /** An IPv4 CIDR whose address is the network address ({@code 10.1.0.0/16}, not {@code 10.1.2.3/16}). */
    static IpPrefix parseCidr(String text, String what) {
        IpPrefix p;
        try {
            p = IpPrefix.parse(text.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid " + what + " '" + text + "': " + e.getMessage());
        }
        if (!p.isIpv4() || text.indexOf('/') < 0) {
            throw new IllegalArgumentException("invalid " + what + " '" + text + "': an IPv4 CIDR is needed");
        }
        if (!p.address().equals(IpPrefix.literal(text.substring(0, text.indexOf('/'))))) {
            throw new IllegalArgumentException("invalid " + what + " '" + text + "': host bits are set (" + p + ")");
        }
        return p;
    }

    /** The address part of {@code A.B.C.D} or {@code A.B.C.D/len}. */
    static Inet4Address parseAddress(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        InetAddress a;
        try {
            a = IpPrefix.literal(slash < 0 ? t : t.substring(0, slash));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid address '" + text + "'");
        }
        if (!(a instanceof Inet4Address v4)) {
            throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
        }
        return v4;
    }

    static int toInt(InetAddress a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    static Inet4Address toInet(int v) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[]{(byte) (v >>> 24), (byte) (v >>> 16),
                    (byte) (v >>> 8), (byte) v});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** The first host address of a subnet: the host's gateway (the address of its bridge). */
    static Inet4Address gateway(IpPrefix subnet) {
        return HostLease.gateway(subnet);
    }

    static String withLength(InetAddress address, int length) {
        return address.getHostAddress() + "/" + length;
    }

    static boolean overlaps(IpPrefix a, IpPrefix b) {
        int len = Math.min(a.length(), b.length());
        long mask = len == 0 ? 0 : (0xFFFFFFFFL << (32 - len)) & 0xFFFFFFFFL;
        return ((toInt(a.address()) & mask) == (toInt(b.address()) & mask));
    }

    static boolean contains(IpPrefix prefix, InetAddress address) {
        return address instanceof Inet4Address && new IpPrefix(address, prefix.length()).equals(prefix);
    }

    /** The first block of {@code length} in {@code range} that overlaps none of {@code taken}. */
    static Optional<IpPrefix> freeBlock(IpPrefix range, int length, Collection<IpPrefix> taken) {
        long base = toInt(range.address()) & 0xFFFFFFFFL;
        long end = base + (1L << (32 - range.length()));
        long step = 1L << (32 - length);
        for (long at = base; at + step <= end; at += step) {
            IpPrefix candidate = new IpPrefix(toInet((int) at), length);
            if (taken.stream().noneMatch(t -> overlaps(t, candidate))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
