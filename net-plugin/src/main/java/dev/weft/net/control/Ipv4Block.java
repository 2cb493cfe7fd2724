package dev.weft.net.control;

import dev.weft.net.netlink.IpPrefix;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * An IPv4 prefix as plain integers (addresses are unsigned 32-bit values held in an {@code int}): the subnet
 * arithmetic of the control plane, with no I/O. {@code base} always has its host bits cleared.
 */
record Ipv4Block(int base, int length) {

    Ipv4Block {
        if (length < 0 || length > 32) {
            throw new IllegalArgumentException("IPv4 prefix length " + length + " out of range");
        }
        base &= mask(length);
    }

    static Ipv4Block of(IpPrefix prefix) {
        if (!prefix.isIpv4()) {
            throw new IllegalArgumentException("not an IPv4 prefix: " + prefix);
        }
        return new Ipv4Block(toInt(prefix.address()), prefix.length());
    }

    static Ipv4Block parse(String cidr) {
        return of(IpPrefix.parse(cidr));
    }

    IpPrefix toPrefix() {
        return new IpPrefix(toInet(base), length);
    }

    private static int mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    /** Number of addresses. */
    long size() {
        return 1L << (32 - length);
    }

    int broadcast() {
        return base + (int) (size() - 1);
    }

    /** The first host address: the host's gateway on its bridge. */
    int gateway() {
        return base + 1;
    }

    boolean contains(int address) {
        return ((address ^ base) & mask(length)) == 0;
    }

    boolean contains(Ipv4Block other) {
        return other.length >= length && contains(other.base);
    }

    boolean overlaps(Ipv4Block other) {
        return contains(other.base) || other.contains(base);
    }

    /** How many subnets of length {@code subnetLength} this block holds. */
    long subnetCount(int subnetLength) {
        if (subnetLength < length || subnetLength > 32) {
            throw new IllegalArgumentException("subnet length " + subnetLength + " does not fit in " + this);
        }
        return 1L << (subnetLength - length);
    }

    /** The {@code i}-th subnet of length {@code subnetLength}, in address order. */
    Ipv4Block subnet(long i, int subnetLength) {
        long count = subnetCount(subnetLength);
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("subnet " + i + " of " + count + " in " + this);
        }
        return new Ipv4Block(base + (int) (i << (32 - subnetLength)), subnetLength);
    }

    /**
     * The first subnet of length {@code subnetLength} whose base is not in {@code taken}, trying
     * {@code preferred} first when it is a free subnet of this block with that length.
     */
    Optional<Ipv4Block> firstFreeSubnet(int subnetLength, Set<Integer> taken, Ipv4Block preferred) {
        if (preferred != null && preferred.length == subnetLength && contains(preferred)
                && !taken.contains(preferred.base)) {
            return Optional.of(preferred);
        }
        long count = subnetCount(subnetLength);
        for (long i = 0; i < count; i++) {
            Ipv4Block s = subnet(i, subnetLength);
            if (!taken.contains(s.base)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /**
     * The first block of length {@code blockLength} inside this one that overlaps none of {@code taken}
     * (carving a pool).
     */
    Optional<Ipv4Block> firstFreeBlock(int blockLength, Iterable<Ipv4Block> taken) {
        long count = subnetCount(blockLength);
        outer:
        for (long i = 0; i < count; i++) {
            Ipv4Block candidate = subnet(i, blockLength);
            for (Ipv4Block t : taken) {
                if (t.overlaps(candidate)) {
                    continue outer;
                }
            }
            return Optional.of(candidate);
        }
        return Optional.empty();
    }

    /** Addresses an endpoint may get: all but the network address, the gateway and the broadcast address. */
    long endpointCapacity() {
        return Math.max(0, size() - 3);
    }

    /** The lowest address for an endpoint (after the gateway, before the broadcast) not in {@code taken}. */
    OptionalInt lowestFreeEndpoint(Set<Integer> taken) {
        long n = endpointCapacity();
        for (long i = 0; i < n; i++) {
            int a = base + 2 + (int) i;
            if (!taken.contains(a)) {
                return OptionalInt.of(a);
            }
        }
        return OptionalInt.empty();
    }

    /** Whether {@code address} is one an endpoint of this subnet may have. */
    boolean isEndpointAddress(int address) {
        return contains(address) && address != base && address != gateway() && address != broadcast();
    }

    static int toInt(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + address);
        }
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    static Inet4Address toInet(int address) {
        byte[] b = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static String format(int address) {
        return (address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "." + (address & 0xff);
    }

    /** Parses a dotted-quad literal (never a name lookup). */
    static int parseAddress(String s) {
        InetAddress a = IpPrefix.literal(s);
        if (!(a instanceof Inet4Address)) {
            throw new IllegalArgumentException("not an IPv4 address: " + s);
        }
        return toInt(a);
    }

    @Override
    public String toString() {
        return format(base) + "/" + length;
    }
}
