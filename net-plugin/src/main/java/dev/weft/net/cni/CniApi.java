package dev.weft.net.cni;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.kvstore.StoreException;
import dev.weft.net.control.NetworkRequest;
import dev.weft.net.control.PoolExhaustedException;
import dev.weft.net.dataplane.OverlayNames;
import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.HostOverlay;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.Link;
import dev.weft.net.netlink.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;

/**
 * The CNI commands for this host as plain calls: {@link #handle} takes the envelope the {@code weft-cni}
 * executable sends — {@code {"command","containerId","netns","ifName","args","path","config":{…}}}, the
 * {@code CNI_*} variables and stdin as it got them — and answers the spec's result (or nothing) or error JSON.
 * No sockets: {@link CniServer} serves it.
 *
 * <ul>
 * <li>ADD is an "ensure": it creates the weft network when it is missing and the config gives a {@code subnet},
 * joins it on this host, allocates (or finds) the endpoint of (container ID, interface) and attaches a veth whose
 * container end is {@code CNI_IFNAME} in {@code CNI_NETNS}; a repeated ADD answers the same result.</li>
 * <li>DEL is idempotent: a missing network, endpoint, namespace or veth is success; the address is released.</li>
 * <li>CHECK (0.4.0+) compares the kernel with the endpoint; GC (1.1.0+) releases this host's CNI endpoints of the
 * network that {@code cni.dev/valid-attachments} does not list; STATUS (1.1.0+) answers 50 when the network
 * cannot be served.</li>
 * </ul>
 *
 * <p>Thread-safe: calls for one attachment are serialized, GC of a network excludes ADD and DEL in it.
 */
public final class CniApi {
    private static final Logger LOG = LoggerFactory.getLogger(CniApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** libcni's rule for container IDs. */
    private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");
    /** The prefix of the endpoint IDs of CNI attachments (Docker's are its endpoint IDs). */
    static final String ENDPOINT_PREFIX = "cni-";

    /** An answer: success (exit 0) or a CNI error (exit 1), and the JSON to print (empty: print nothing). */
    public record Answer(boolean ok, byte[] body) {
    }

    /** One call: the CNI_* variables and the parsed config (null for VERSION). */
    private record Call(String command, String containerId, String netns, String ifName, String args,
                        CniConfig config) {
    }

    private final HostNetworks networks;
    private final HostOverlay host;
    private final CniSettings settings;
    private final Object[] stripes = new Object[64];
    private final Map<String, ReadWriteLock> networkLocks = new ConcurrentHashMap<>();

    public CniApi(HostNetworks networks, CniSettings settings) {
        this.networks = Objects.requireNonNull(networks, "networks");
        this.host = networks.overlay();
        this.settings = Objects.requireNonNull(settings, "settings");
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new Object();
        }
    }

    /**
     * The endpoint ID of the attachment (container ID, interface): {@code cni-} and 32 hex digits of
     * SHA-256(container ID, NUL, interface). Stable, so DEL, CHECK and GC find what ADD made.
     */
    public static String endpointId(String containerId, String ifName) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256")
                    .digest((containerId + "\u0000" + ifName).getBytes(StandardCharsets.UTF_8));
            return ENDPOINT_PREFIX + HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Serves one call; never throws. */
    public Answer handle(byte[] envelope) {
        long started = System.nanoTime();
        String version = CniVersions.LATEST;
        String command = "?";
        String what = "";
        try {
            JsonNode e = parse(envelope);
            command = text(e, "command");
            if (command == null) {
                throw new CniException(CniException.INVALID_ENVIRONMENT, "CNI_COMMAND is not set");
            }
            JsonNode config = e.get("config");
            version = CniConfig.versionOf(config);
            if ("VERSION".equals(command)) {
                return new Answer(true, bytes(CniResults.version()));
            }
            if (!List.of("ADD", "DEL", "CHECK", "GC", "STATUS").contains(command)) {
                throw new CniException(CniException.INVALID_ENVIRONMENT, "CNI_COMMAND '" + command
                        + "' is not one of ADD, DEL, CHECK, GC, STATUS, VERSION");
            }
            Call call = new Call(command, text(e, "containerId"), text(e, "netns"), text(e, "ifName"),
                    text(e, "args"), CniConfig.parse(config));
            what = describe(call);
            JsonNode result = switch (command) {
                case "ADD" -> add(call, started);
                case "DEL" -> del(call, started);
                case "CHECK" -> check(call);
                case "GC" -> gc(call);
                default -> status(call);
            };
            return new Answer(true, result == null ? new byte[0] : bytes(result));
        } catch (CniException ex) {
            return failed(version, command, what, ex.code(), ex.getMessage(), ex.details(), started);
        } catch (StoreException ex) {
            return failed(version, command, what, CniException.TRY_AGAIN_LATER, "weft's store is not available",
                    message(ex), started);
        } catch (PoolExhaustedException ex) {
            return failed(version, command, what, CniException.INTERNAL, "no free address", message(ex), started);
        } catch (RuntimeException ex) {
            LOG.debug("cni: {} failed", command, ex);
            return failed(version, command, what, CniException.INTERNAL, message(ex), ex.getClass().getSimpleName(),
                    started);
        }
    }

    private static Answer failed(String version, String command, String what, int code, String msg, String details,
                                 long started) {
        LOG.warn("cni: {} {} failed in {} ms: code {} {}{}", command, what, millis(started),
                code, msg, details.isEmpty() ? "" : " (" + details + ")");
        return new Answer(false, bytes(CniResults.error(version, code, msg, details)));
    }

    // ---------------------------------------------------------------- commands

    private JsonNode add(Call c, long started) {
        String containerId = containerId(c);
        String ifName = ifName(c);
        Path netns = netns(c);
        checkArgs(c.args());
        Network n = ensureNetwork(c.config());
        String id = endpointId(containerId, ifName);
        synchronized (stripe(id)) {
            Lock lock = networkLock(n.name()).readLock();
            lock.lock();
            try {
                HostLease lease = lease(n);
                boolean fresh = host.ipam().find(n.name(), id).isEmpty();
                Endpoint e = host.ipam().allocate(n.name(), id, containerId);
                String hostEnd;
                try {
                    hostEnd = host.dataPlane().attach(n, lease, e, netns, ifName);
                } catch (RuntimeException ex) {
                    if (fresh) {
                        undo(e);
                    }
                    throw ex;
                }
                Optional<Link> hostLink = host.dataPlane().link(hostEnd);
                int mtu = hostLink.map(Link::mtu).orElse(0);
                LOG.info("cni: ADD container {} {} → {}/{} on network {} via {} (host end {}){} in {} ms",
                        brief(containerId), ifName, e.ip().getHostAddress(), lease.subnet().length(), n.name(),
                        lease.gateway().getHostAddress(), hostEnd, fresh ? "" : " (existing attachment)",
                        millis(started));
                return CniResults.add(c.config().cniVersion(),
                        new CniResults.Interface(hostEnd, hostLink.map(l -> l.mac().toString()).orElse(null), null, mtu),
                        new CniResults.Interface(ifName, e.mac().toString(), netns.toString(), mtu),
                        e.ip(), lease.subnet().length(), lease.gateway(), nameservers(lease),
                        settings.searchDomains(), c.config().dns());
            } finally {
                lock.unlock();
            }
        }
    }

    private JsonNode del(Call c, long started) {
        String containerId = containerId(c);
        String ifName = ifName(c);
        Optional<Network> n = host.view().network(c.config().network());
        if (n.isEmpty()) {
            LOG.info("cni: DEL container {} {}: no weft network {} (nothing to do)", brief(containerId), ifName,
                    c.config().network());
            return null;
        }
        String id = endpointId(containerId, ifName);
        synchronized (stripe(id)) {
            Lock lock = networkLock(n.get().name()).readLock();
            lock.lock();
            try {
                Optional<Endpoint> e = host.ipam().find(n.get().name(), id);
                if (e.isEmpty()) {
                    // a veth left by an ADD whose address was released (its name depends only on the ID)
                    boolean removed = host.dataPlane().detach(new Endpoint(n.get().name(), id, containerId,
                            host.keeper().host(), (Inet4Address) IpPrefix.literal("0.0.0.0"), MacAddress.ZERO));
                    LOG.info("cni: DEL container {} {} on network {}: no endpoint (nothing to release){}",
                            brief(containerId), ifName, n.get().name(), removed ? "; removed a leftover veth" : "");
                    return null;
                }
                if (!e.get().host().equals(host.keeper().host())) {
                    LOG.warn("cni: DEL container {} {} on network {}: its endpoint belongs to host {}: left alone",
                            brief(containerId), ifName, n.get().name(), e.get().host());
                    return null;
                }
                boolean removed = host.dataPlane().detach(e.get());
                host.ipam().release(n.get().name(), id);
                LOG.info("cni: DEL container {} {} on network {}: released {}{} in {} ms", brief(containerId), ifName,
                        n.get().name(), e.get().ip().getHostAddress(), removed ? "" : " (its veth was gone already)",
                        millis(started));
                return null;
            } finally {
                lock.unlock();
            }
        }
    }

    private JsonNode check(Call c) {
        requireVersion(c, "0.4.0", "CHECK");
        String containerId = containerId(c);
        String ifName = ifName(c);
        Path netns = Path.of(require(c.netns(), "CNI_NETNS"));
        Network n = host.view().network(c.config().network()).orElseThrow(() -> new CniException(
                CniException.UNKNOWN_CONTAINER, "no weft network '" + c.config().network() + "'"));
        Endpoint e = host.ipam().find(n.name(), endpointId(containerId, ifName)).orElseThrow(() ->
                new CniException(CniException.UNKNOWN_CONTAINER, "weft has no attachment of container "
                        + containerId + " " + ifName + " to network " + n.name()));
        HostLease lease = host.keeper().current(n.name()).orElseThrow(() -> new CniException(
                CniException.CHECK_FAILED, "this host holds no subnet of network " + n.name()));
        List<String> problems = new ArrayList<>(host.dataPlane().verify(n, lease, e, netns, ifName));
        JsonNode prev = c.config().prevResult();
        if (prev != null && prev.path("ips").isArray()) {
            String mine = e.ip().getHostAddress() + "/" + lease.subnet().length();
            boolean found = false;
            for (JsonNode ip : prev.path("ips")) {
                found |= mine.equals(ip.path("address").asText());
            }
            if (!found) {
                problems.add("prevResult does not hold " + mine);
            }
        }
        if (!problems.isEmpty()) {
            throw new CniException(CniException.CHECK_FAILED, "the attachment of container " + containerId + " "
                    + ifName + " differs from what weft made", String.join("; ", problems));
        }
        LOG.debug("cni: CHECK container {} {} on network {}: fine", brief(containerId), ifName, n.name());
        return null;
    }

    private JsonNode gc(Call c) {
        requireVersion(c, "1.1.0", "GC");
        List<CniConfig.Attachment> valid = c.config().validAttachments();
        if (valid == null) {
            throw new CniException(CniException.INVALID_CONFIG, "GC needs cni.dev/valid-attachments");
        }
        Optional<Network> n = host.view().network(c.config().network());
        if (n.isEmpty()) {
            return null;
        }
        Set<String> keep = new HashSet<>();
        valid.forEach(a -> keep.add(endpointId(a.containerId(), a.ifName())));
        Lock lock = networkLock(n.get().name()).writeLock();
        lock.lock();
        try {
            int released = 0;
            for (Endpoint e : host.ipam().endpoints(n.get().name())) {
                if (e.host().equals(host.keeper().host()) && e.id().startsWith(ENDPOINT_PREFIX)
                        && !keep.contains(e.id())) {
                    host.dataPlane().detach(e);
                    if (host.ipam().release(n.get().name(), e.id())) {
                        released++;
                        LOG.info("cni: GC network {}: released {} of container {}", n.get().name(),
                                e.ip().getHostAddress(), brief(e.containerId()));
                    }
                }
            }
            LOG.debug("cni: GC network {}: {} valid attachments, {} released", n.get().name(), keep.size(), released);
        } finally {
            lock.unlock();
        }
        return null;
    }

    private JsonNode status(Call c) {
        requireVersion(c, "1.1.0", "STATUS");
        if (host.keeper().sessionId() == null) {
            throw new CniException(CniException.NOT_AVAILABLE, "weft's lease keeper is not running on this host");
        }
        if (host.view().network(c.config().network()).isEmpty() && c.config().subnet() == null) {
            throw new CniException(CniException.NOT_AVAILABLE, "no weft network '" + c.config().network() + "'",
                    "create it, or give the config a subnet so that ADD creates it");
        }
        return null;
    }

    // ---------------------------------------------------------------- helpers

    /** The network of the config: the existing one (which must match the config), or a new one with its subnet. */
    private Network ensureNetwork(CniConfig config) {
        Optional<Network> existing = host.view().network(config.network());
        if (existing.isEmpty() && config.subnet() == null) {
            throw new CniException(CniException.INVALID_CONFIG, "no weft network '" + config.network() + "'",
                    "create it first, or give the config a \"subnet\" so that ADD creates it");
        }
        if (existing.isEmpty()) {
            try {
                Network created = host.registry().create(new NetworkRequest(config.network(), null, config.subnet(),
                        0, 0, config.mtu()));
                LOG.info("cni: created weft network {} ({}, vni {})", created.name(), created.cidr(), created.vni());
                return created;
            } catch (IllegalArgumentException e) {
                // another host (or call) created it first, or the subnet is taken
                existing = host.registry().network(config.network());
                if (existing.isEmpty()) {
                    throw new CniException(CniException.INVALID_CONFIG, "cannot create weft network '"
                            + config.network() + "'", e.getMessage());
                }
            }
        }
        Network n = existing.get();
        if (config.subnet() != null && !config.subnet().equals(n.cidr())) {
            throw new CniException(CniException.INVALID_CONFIG, "weft network '" + n.name() + "' has subnet "
                    + n.cidr() + ", not " + config.subnet());
        }
        if (config.mtu() != 0 && config.mtu() != n.mtu()) {
            throw new CniException(CniException.INVALID_CONFIG, "weft network '" + n.name() + "' has mtu "
                    + n.mtu() + ", not " + config.mtu());
        }
        return n;
    }

    /** This host's lease, joining the network (devices reconciled) when it has not yet or its bridge is gone. */
    private HostLease lease(Network n) {
        if (networks.isJoined(n.name()) && host.dataPlane().link(OverlayNames.bridge(n)).isPresent()) {
            Optional<HostLease> current = host.keeper().current(n.name());
            if (current.isPresent()) {
                return current.get();
            }
        }
        return networks.join(n.name());
    }

    private void undo(Endpoint e) {
        try {
            host.dataPlane().detach(e);
            host.ipam().release(e.network(), e.id());
        } catch (RuntimeException ex) {
            LOG.warn("cni: cleaning up after a failed ADD of {} failed: {}", e.id(), ex.toString());
        }
    }

    private Object stripe(String id) {
        return stripes[Math.floorMod(id.hashCode(), stripes.length)];
    }

    private ReadWriteLock networkLock(String network) {
        return networkLocks.computeIfAbsent(network, k -> new ReentrantReadWriteLock());
    }

    /** The result's nameservers: {@link CniSettings#GATEWAY} stands for this host's gateway in the network. */
    private List<String> nameservers(HostLease lease) {
        return settings.nameservers().stream()
                .map(ns -> ns.equals(CniSettings.GATEWAY) ? lease.gateway().getHostAddress() : ns).toList();
    }

    private static void requireVersion(Call c, String min, String command) {
        if (!CniVersions.atLeast(c.config().cniVersion(), min)) {
            throw new CniException(CniException.INCOMPATIBLE_VERSION, "config version does not allow " + command,
                    command + " needs cniVersion " + min + " or later, the config has " + c.config().cniVersion());
        }
    }

    private static String containerId(Call c) {
        String id = require(c.containerId(), "CNI_CONTAINERID");
        if (!CONTAINER_ID.matcher(id).matches()) {
            throw new CniException(CniException.INVALID_ENVIRONMENT, "invalid CNI_CONTAINERID '" + id + "'",
                    "letters, digits, '_', '.', '-', not starting with a punctuation mark");
        }
        return id;
    }

    /** libcni's rule for interface names: 1–15 bytes, not {@code .} or {@code ..}, no {@code /}, {@code :} or blank. */
    private static String ifName(Call c) {
        String name = require(c.ifName(), "CNI_IFNAME");
        if (name.getBytes(StandardCharsets.UTF_8).length > 15 || name.equals(".") || name.equals("..")
                || name.chars().anyMatch(ch -> ch == '/' || ch == ':' || Character.isWhitespace(ch))) {
            throw new CniException(CniException.INVALID_ENVIRONMENT, "invalid CNI_IFNAME '" + name + "'",
                    "at most 15 bytes, not '.' or '..', no '/', ':' or white space");
        }
        return name;
    }

    private static Path netns(Call c) {
        Path p = Path.of(require(c.netns(), "CNI_NETNS"));
        if (!Files.exists(p)) {
            throw new CniException(CniException.INVALID_ENVIRONMENT, "CNI_NETNS " + p + " does not exist");
        }
        return p;
    }

    /** {@code K=V;K=V}: weft reads none, refuses a static IP or MAC. */
    static Map<String, String> checkArgs(String args) {
        Map<String, String> out = new LinkedHashMap<>();
        if (args == null || args.isBlank()) {
            return out;
        }
        for (String pair : args.split(";")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new CniException(CniException.INVALID_ENVIRONMENT, "invalid CNI_ARGS '" + args + "'",
                        "'" + pair + "' is not KEY=VALUE");
            }
            out.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        for (String unsupported : List.of("IP", "MAC")) {
            if (out.containsKey(unsupported)) {
                throw new CniException(CniException.UNSUPPORTED_FIELD, "CNI_ARGS " + unsupported
                        + " is not supported by weft", "each host allocates addresses from its own subnet");
            }
        }
        return out;
    }

    private static String require(String value, String variable) {
        if (value == null || value.isEmpty()) {
            throw new CniException(CniException.INVALID_ENVIRONMENT, variable + " is not set");
        }
        return value;
    }

    private static JsonNode parse(byte[] envelope) {
        try {
            JsonNode e = envelope == null || envelope.length == 0 ? null : JSON.readTree(envelope);
            if (e == null || !e.isObject()) {
                throw new CniException(CniException.DECODE_FAILURE, "the call must be a JSON object");
            }
            JsonNode config = e.get("config");
            if (config != null && config.isTextual()) {
                // the executable sends stdin as it got it when it could not read it as JSON
                try {
                    ((ObjectNode) e).set("config", JSON.readTree(config.asText()));
                } catch (JsonProcessingException ex) {
                    throw new CniException(CniException.DECODE_FAILURE, "cannot read the network configuration",
                            ex.getOriginalMessage());
                }
            }
            return e;
        } catch (JsonProcessingException ex) {
            throw new CniException(CniException.DECODE_FAILURE, "cannot read the call", ex.getOriginalMessage());
        } catch (IOException ex) {
            throw new CniException(CniException.DECODE_FAILURE, "cannot read the call", ex.getMessage());
        }
    }

    private static String describe(Call c) {
        return (c.containerId() == null ? "" : "container " + brief(c.containerId()) + " ")
                + (c.ifName() == null ? "" : c.ifName() + " ") + "network " + c.config().network();
    }

    /** The first 12 characters of a long container ID, for log lines. */
    private static String brief(String id) {
        return id != null && id.length() > 12 ? id.substring(0, 12) : String.valueOf(id);
    }

    private static String text(JsonNode node, String field) {
        return CniConfig.text(node, field);
    }

    private static long millis(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    private static String message(RuntimeException e) {
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
