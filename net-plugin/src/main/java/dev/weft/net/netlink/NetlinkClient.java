package dev.weft.net.netlink;

import static dev.weft.net.netlink.Rtnl.*;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An rtnetlink client: one {@code NETLINK_ROUTE} socket, bound to the network namespace it was opened in, and
 * the link, address, route, neighbour and FDB operations the overlay needs. Requests are acknowledged one at a
 * time (the methods are synchronized); dumps span several {@code recv} buffers and are retried when the kernel
 * marks them interrupted by concurrent changes. Every kernel error becomes a {@link NetlinkException} naming the
 * operation and its object. Devices are named; the client resolves names to indexes in its own namespace.
 */
public final class NetlinkClient implements AutoCloseable {
    /** Larger than any single netlink datagram: the kernel caps dump buffers at 32 KiB. */
    private static final int BUFFER_SIZE = 64 * 1024;
    private static final int DUMP_ATTEMPTS = 10;
    /** Send and receive timeout: the kernel answers at once, so this only bounds a lost answer. */
    private static final int TIMEOUT_SECONDS = 10;

    private final int fd;
    private final Memory buffer = new Memory(BUFFER_SIZE);
    private final byte[] received = new byte[BUFFER_SIZE];
    private int seq;
    private boolean closed;

    private NetlinkClient(int fd) {
        this.fd = fd;
    }

    /** Opens a client in the calling thread's network namespace. */
    public static NetlinkClient open() {
        int fd;
        try {
            fd = LibC.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        } catch (LastErrorException e) {
            throw failure("open netlink socket", e);
        }
        try {
            byte[] address = new byte[12]; // struct sockaddr_nl: family, pad, pid 0 (kernel assigns), groups 0
            ByteBuffer.wrap(address).order(ByteOrder.nativeOrder()).putShort((short) AF_NETLINK);
            LibC.bind(fd, address, address.length);
            try (Memory timeout = new Memory(16)) { // struct timeval
                timeout.setLong(0, TIMEOUT_SECONDS);
                timeout.setLong(8, 0);
                LibC.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
                LibC.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeout, 16);
            }
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw failure("set up netlink socket", e);
        }
        // Optional (Linux 4.2/4.12+): acks without the echoed request, and error messages with the kernel's text.
        setFlagQuietly(fd, SOL_NETLINK, NETLINK_CAP_ACK);
        setFlagQuietly(fd, SOL_NETLINK, NETLINK_EXT_ACK);
        return new NetlinkClient(fd);
    }

    /**
     * Opens a client whose socket lives in the network namespace {@code netnsFile} (such as
     * {@code /var/run/netns/blue}); it keeps working there whatever thread calls it.
     */
    public static NetlinkClient openIn(Path netnsFile) {
        return NetNs.run(netnsFile, NetlinkClient::open);
    }

    // ---------------------------------------------------------------- links

    public void createVethPair(String name, String peerName) {
        ack("create veth pair " + name + "/" + peerName, RtnlMessages.createVethPair(name, peerName));
    }

    /**
     * A veth pair with both ends' MTU, whose peer is created directly in the namespace {@code peerNetns} (a file such
     * as {@code /var/run/netns/blue} or {@code /proc/PID/ns/net}): cheaper than creating it here and moving it.
     */
    public void createVethPair(String name, String peerName, Path peerNetns, int mtu) {
        String op = "create veth pair " + name + "/" + peerName + " (peer in " + peerNetns + ")";
        int nsFd = openFile(peerNetns.toString(), op);
        try {
            ack(op, RtnlMessages.createVethPair(name, peerName, nsFd, mtu));
        } finally {
            closeQuietly(nsFd);
        }
    }

    public void createBridge(String name) {
        ack("create bridge " + name, RtnlMessages.createBridge(name));
    }

    public void createVxlan(VxlanSpec spec) {
        ack("create vxlan " + spec.name(), RtnlMessages.createVxlan(spec));
    }

    /** Deletes a device (for a veth, both ends). A missing device is an {@code ENODEV} exception. */
    public void deleteLink(String name) {
        ack("delete link " + name, RtnlMessages.deleteLink(name));
    }

    public Optional<Link> link(String name) {
        return link("get link " + name, RtnlMessages.getLink(name));
    }

    public Optional<Link> link(int index) {
        return link("get link #" + index, RtnlMessages.getLink(index));
    }

    private Optional<Link> link(String op, MessageBuilder request) {
        try {
            return exchange(op, request).messages().stream()
                    .filter(m -> m.type() == RTM_NEWLINK)
                    .map(RtnlMessages::decodeLink)
                    .findFirst();
        } catch (NetlinkException e) {
            if (e.is(Errno.ENODEV)) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** All devices of the namespace. */
    public List<Link> links() {
        List<Link> out = new ArrayList<>();
        for (NetlinkMessage m : dump("dump links", RtnlMessages.dumpLinks())) {
            if (m.type() == RTM_NEWLINK) {
                out.add(RtnlMessages.decodeLink(m));
            }
        }
        return out;
    }

    public void setUp(String name) {
        String op = "set " + name + " up";
        ack(op, RtnlMessages.setLink(index(op, name), IFF_UP, IFF_UP));
    }

    public void setDown(String name) {
        String op = "set " + name + " down";
        ack(op, RtnlMessages.setLink(index(op, name), 0, IFF_UP));
    }

    public void setMtu(String name, int mtu) {
        String op = "set mtu of " + name + " to " + mtu;
        ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attrU32(IFLA_MTU, mtu));
    }

    /** Enslaves {@code name} to {@code masterName} (a bridge). */
    public void setMaster(String name, String masterName) {
        String op = "set master of " + name + " to " + masterName;
        int master = index(op, masterName);
        ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attrU32(IFLA_MASTER, master));
    }

    public void setNoMaster(String name) {
        String op = "release " + name + " from its master";
        ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attrU32(IFLA_MASTER, 0));
    }

    public void setMac(String name, MacAddress mac) {
        String op = "set mac of " + name + " to " + mac;
        ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attr(IFLA_ADDRESS, mac.bytes()));
    }

    /** Renames a device; {@code EEXIST} when the name is taken (older kernels also refuse while it is up). */
    public void rename(String name, String newName) {
        String op = "rename " + name + " to " + newName;
        RtnlMessages.checkName(newName);
        ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attrString(IFLA_IFNAME, newName));
    }

    /**
     * Moves a device into the network namespace open as {@code netnsFd}; it disappears from this one. The device
     * keeps its name (which must be free there) and goes down.
     */
    public void moveToNamespace(String name, int netnsFd) {
        String op = "move " + name + " to netns fd " + netnsFd;
        ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attrU32(IFLA_NET_NS_FD, netnsFd));
    }

    /** {@link #moveToNamespace(String, int)} for a namespace file such as {@code /var/run/netns/blue}. */
    public void moveToNamespace(String name, Path netnsFile) {
        String op = "move " + name + " to netns " + netnsFile;
        int nsFd = openFile(netnsFile.toString(), op);
        try {
            ack(op, RtnlMessages.setLink(index(op, name), 0, 0).attrU32(IFLA_NET_NS_FD, nsFd));
        } finally {
            closeQuietly(nsFd);
        }
    }

    // ---------------------------------------------------------------- addresses

    /** Adds {@code address/prefixLength} to a device; {@code EEXIST} when it is already there. */
    public void addAddress(String device, InetAddress address, int prefixLength) {
        String op = "add address " + address.getHostAddress() + "/" + prefixLength + " to " + device;
        ack(op, RtnlMessages.address(RTM_NEWADDR, index(op, device), address, prefixLength));
    }

    /** Removes an address; {@code EADDRNOTAVAIL} when the device does not have it. */
    public void deleteAddress(String device, InetAddress address, int prefixLength) {
        String op = "delete address " + address.getHostAddress() + "/" + prefixLength + " from " + device;
        ack(op, RtnlMessages.address(RTM_DELADDR, index(op, device), address, prefixLength));
    }

    /** The IPv4 and IPv6 addresses of a device (including IPv6 link-local ones). */
    public List<LinkAddress> addresses(String device) {
        String op = "dump addresses of " + device;
        int index = index(op, device);
        List<LinkAddress> out = new ArrayList<>();
        for (NetlinkMessage m : dump(op, RtnlMessages.dumpAddresses())) {
            if (m.type() == RTM_NEWADDR && RtnlMessages.addressIndex(m) == index) {
                out.add(RtnlMessages.decodeAddress(m, device));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- routes

    /** Adds the route, or replaces the main table's route to the same destination. */
    public void replaceRoute(Route route) {
        String op = "replace route " + route;
        ack(op, RtnlMessages.replaceRoute(route, route.device() == null ? 0 : index(op, route.device())));
    }

    /** Deletes a route of the main table; {@code ESRCH} when there is none that matches. */
    public void deleteRoute(Route route) {
        String op = "delete route " + route;
        ack(op, RtnlMessages.deleteRoute(route, route.device() == null ? 0 : index(op, route.device())));
    }

    /** The unicast routes of the main table, IPv4 and IPv6 (connected routes included). */
    public List<Route> routes() {
        Map<Integer, String> names = new HashMap<>();
        for (Link l : links()) {
            names.put(l.index(), l.name());
        }
        List<Route> out = new ArrayList<>();
        for (NetlinkMessage m : dump("dump routes", RtnlMessages.dumpRoutes())) {
            if (m.type() == RTM_NEWROUTE) {
                Route r = RtnlMessages.decodeRoute(m, i -> names.getOrDefault(i, "#" + i));
                if (r != null) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- policy-routing rules

    /** Adds an IPv4 rule; {@code EEXIST} when an identical one exists. */
    public void addRule(Rule rule) {
        ack("add rule " + rule, RtnlMessages.addRule(rule));
    }

    /** Deletes the first IPv4 rule that matches; {@code ENOENT} when none does. */
    public void deleteRule(Rule rule) {
        ack("delete rule " + rule, RtnlMessages.deleteRule(rule));
    }

    /** The IPv4 rules whose action is a table lookup or {@code unreachable}. */
    public List<Rule> rules() {
        List<Rule> out = new ArrayList<>();
        for (NetlinkMessage m : dump("dump rules", RtnlMessages.dumpRules())) {
            if (m.type() == RTM_NEWRULE) {
                Rule r = RtnlMessages.decodeRule(m);
                if (r != null) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- neighbours

    /** Adds or replaces an ARP / NDP entry; {@code permanent} entries never expire. */
    public void replaceNeighbour(String device, InetAddress ip, MacAddress mac, boolean permanent) {
        String op = "replace neighbour " + ip.getHostAddress() + " lladdr " + mac + " dev " + device;
        ack(op, RtnlMessages.replaceNeighbour(index(op, device), ip, mac, permanent));
    }

    public void deleteNeighbour(String device, InetAddress ip) {
        String op = "delete neighbour " + ip.getHostAddress() + " dev " + device;
        ack(op, RtnlMessages.deleteNeighbour(index(op, device), ip));
    }

    /** The IPv4 and IPv6 neighbour entries of a device. */
    public List<Neighbour> neighbours(String device) {
        String op = "dump neighbours of " + device;
        int index = index(op, device);
        List<Neighbour> out = new ArrayList<>();
        for (NetlinkMessage m : dump(op, RtnlMessages.dumpNeighbours(AF_UNSPEC))) {
            int family = RtnlMessages.neighbourFamily(m);
            if (m.type() == RTM_NEWNEIGH && (family == AF_INET || family == AF_INET6)
                    && RtnlMessages.neighbourIndex(m) == index) {
                out.add(RtnlMessages.decodeNeighbour(m, device));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- FDB

    /**
     * Adds {@code dst} as one more destination for {@code mac} in the device's own FDB (as
     * {@code bridge fdb append MAC dev DEV dst IP self permanent}): for {@link MacAddress#ZERO} (and multicast
     * MACs) a VXLAN device floods to every destination of the list. Appending a pair already listed changes
     * nothing. For a unicast MAC that already has an entry the kernel ignores the new destination: use
     * {@link #replaceFdb}.
     */
    public void appendFdb(String device, MacAddress mac, InetAddress dst) {
        String op = "append fdb " + mac + " dst " + Objects.requireNonNull(dst, "dst").getHostAddress()
                + " dev " + device;
        ack(op, RtnlMessages.appendFdb(index(op, device), mac, dst));
    }

    /**
     * Sets the one destination of a unicast {@code mac} (as {@code bridge fdb replace … self permanent}),
     * creating the entry if needed. The kernel refuses ({@code EOPNOTSUPP}) for zero and multicast MACs.
     */
    public void replaceFdb(String device, MacAddress mac, InetAddress dst) {
        String op = "replace fdb " + mac + " dst " + Objects.requireNonNull(dst, "dst").getHostAddress()
                + " dev " + device;
        ack(op, RtnlMessages.replaceFdb(index(op, device), mac, dst));
    }

    /** Removes one destination of {@code mac} (or, with {@code dst} null, the entry). {@code ENOENT} if absent. */
    public void deleteFdb(String device, MacAddress mac, InetAddress dst) {
        String op = "delete fdb " + mac + (dst == null ? "" : " dst " + dst.getHostAddress()) + " dev " + device;
        ack(op, RtnlMessages.deleteFdb(index(op, device), mac, dst));
    }

    /** The device's own FDB entries, one per (MAC, destination). */
    public List<FdbEntry> fdb(String device) {
        String op = "dump fdb of " + device;
        int index = index(op, device);
        List<FdbEntry> out = new ArrayList<>();
        for (NetlinkMessage m : dump(op, RtnlMessages.dumpNeighbours(AF_BRIDGE))) {
            if (m.type() == RTM_NEWNEIGH && RtnlMessages.neighbourFamily(m) == AF_BRIDGE
                    && RtnlMessages.neighbourIndex(m) == index) {
                FdbEntry e = RtnlMessages.decodeFdb(m, device);
                if (e != null) {
                    out.add(e);
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- the socket

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            closeQuietly(fd);
            buffer.close();
        }
    }

    /** The index of a device, or the kernel's error ({@code ENODEV}) labelled with {@code op}. */
    private int index(String op, String name) {
        for (NetlinkMessage m : exchange(op, RtnlMessages.getLink(name)).messages()) {
            if (m.type() == RTM_NEWLINK) {
                return RtnlMessages.decodeLink(m).index();
            }
        }
        throw new NetlinkException(op, Errno.EPROTO.code(), "no RTM_NEWLINK in the answer for " + name);
    }

    private void ack(String op, MessageBuilder request) {
        exchange(op, request);
    }

    private List<NetlinkMessage> dump(String op, MessageBuilder request) {
        for (int attempt = 1; ; attempt++) {
            Replies r = exchange(op, request);
            if (!r.interrupted()) {
                return r.messages();
            }
            if (attempt == DUMP_ATTEMPTS) {
                throw new NetlinkException(op, Errno.EINTR.code(),
                        "dump interrupted by concurrent changes " + attempt + " times in a row");
            }
        }
    }

    private record Replies(List<NetlinkMessage> messages, boolean interrupted) {
    }

    /**
     * Sends one request and collects its answer: for a dump every message up to {@code NLMSG_DONE}, else
     * everything up to the ack. Messages of other sequence numbers (late answers to an earlier request that
     * failed half-way) are dropped.
     */
    private synchronized Replies exchange(String op, MessageBuilder request) {
        if (closed) {
            throw new IllegalStateException(op + ": netlink client closed");
        }
        int s = ++seq;
        byte[] bytes = request.build(s);
        try {
            long sent = LibC.send(fd, bytes, bytes.length, 0);
            if (sent != bytes.length) {
                throw new NetlinkException(op, Errno.EIO.code(), "sent " + sent + " of " + bytes.length + " bytes");
            }
        } catch (LastErrorException e) {
            throw failure(op, e);
        }
        boolean dump = (request.flags() & NLM_F_DUMP) == NLM_F_DUMP;
        List<NetlinkMessage> replies = new ArrayList<>();
        boolean interrupted = false;
        while (true) {
            for (NetlinkMessage m : receive(op)) {
                if (m.seq() != s) {
                    continue;
                }
                if ((m.flags() & NLM_F_DUMP_INTR) != 0) {
                    interrupted = true;
                }
                switch (m.type()) {
                    case NLMSG_NOOP:
                        break;
                    case NLMSG_ERROR: {
                        int errno = RtnlMessages.errorCode(m);
                        if (errno != 0) {
                            throw new NetlinkException(op, errno, RtnlMessages.extAckMessage(m));
                        }
                        if (!dump) {
                            return new Replies(replies, interrupted);
                        }
                        break;
                    }
                    case NLMSG_DONE: {
                        int errno = m.payload().length >= 4 ? RtnlMessages.errorCode(m) : 0;
                        if (errno > 0) {
                            throw new NetlinkException(op, errno, RtnlMessages.extAckMessage(m));
                        }
                        if (dump) {
                            return new Replies(replies, interrupted);
                        }
                        break;
                    }
                    case NLMSG_OVERRUN:
                        throw new NetlinkException(op, Errno.ENOBUFS.code(), "netlink overrun");
                    default:
                        replies.add(m);
                }
            }
        }
    }

    private List<NetlinkMessage> receive(String op) {
        long n;
        while (true) {
            try {
                n = LibC.recv(fd, buffer, BUFFER_SIZE, MSG_TRUNC);
                break;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINTR.code()) {
                    continue;
                }
                if (e.getErrorCode() == Errno.EAGAIN.code()) {
                    throw new NetlinkException(op, Errno.ETIMEDOUT, "no answer from the kernel within "
                            + TIMEOUT_SECONDS + " s", e);
                }
                throw failure(op, e);
            }
        }
        if (n > BUFFER_SIZE) {
            throw new NetlinkException(op, Errno.EMSGSIZE.code(), "a reply of " + n + " bytes exceeds the "
                    + BUFFER_SIZE + "-byte buffer");
        }
        buffer.read(0, received, 0, (int) n);
        try {
            return NetlinkMessage.parseAll(received, (int) n);
        } catch (IllegalStateException e) {
            throw new NetlinkException(op, Errno.EPROTO, e.getMessage(), e);
        }
    }

    /** Opens an existing file read-only ({@code O_CLOEXEC}), such as a namespace file. */
    static int openFile(String path, String op) {
        try {
            return LibC.open(path, O_RDONLY | O_CLOEXEC);
        } catch (LastErrorException e) {
            throw failure(op, e);
        }
    }

    static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException ignored) {
            // nothing left to do with a descriptor that cannot be closed
        }
    }

    private static void setFlagQuietly(int fd, int level, int option) {
        try (Memory one = new Memory(4)) {
            one.setInt(0, 1);
            LibC.setsockopt(fd, level, option, one, 4);
        } catch (LastErrorException ignored) {
            // an older kernel: plain acks and errors without text
        }
    }

    private static NetlinkException failure(String op, LastErrorException e) {
        return new NetlinkException(op, Errno.valueOf(e.getErrorCode()), null, e);
    }
}
