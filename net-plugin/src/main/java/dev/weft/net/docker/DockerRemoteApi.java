package dev.weft.net.docker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.HostOverlay;
import dev.weft.net.control.NetworkRequest;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.MacAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * libnetwork's remote network driver and remote IPAM driver protocols as plain calls: {@link #handle} takes a
 * method path ({@code /NetworkDriver.Join}) and a JSON body and returns the status and JSON answer, blocking on
 * the control plane and the kernel. No sockets: {@link DockerPluginServer} serves it.
 *
 * <p>Errors: a refused or failed call answers HTTP 500 with {@code {"Err": "..."}} (Docker's plugin client reads
 * {@code Err} from any non-200 answer, for the IPAM driver too, whose 200 answers would carry it as {@code Error});
 * unreadable JSON 400, an unknown method 404.
 *
 * <p>Docker asks for addresses before it names the endpoint, so {@code RequestAddress} allocates under a
 * placeholder ID ({@code ipam-<hex>}) and {@code CreateEndpoint} binds the address to Docker's endpoint ID. The
 * address stays allocated until Docker's {@code ReleaseAddress}, which always follows {@code DeleteEndpoint}:
 * releasing it earlier would let a concurrent {@code RequestAddress} take it and the late release free it under
 * its new owner. Addresses carry the host subnet's prefix length (the container routes the rest of the network
 * via its host's gateway, as in flannel's Docker setup).
 *
 * <p>Thread-safe: each call is independent; the data plane serializes its own work.
 */
public final class DockerRemoteApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DockerRemoteApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final SecureRandom RANDOM = new SecureRandom();

    static final String GENERIC_OPTIONS = "com.docker.network.generic";
    static final String ADDRESS_TYPE = "RequestAddressType";
    static final String GATEWAY_TYPE = "com.docker.network.gateway";
    static final String PLACEHOLDER_PREFIX = "ipam-";
    static final String LOCAL_ADDRESS_SPACE = "weft-local";
    static final String GLOBAL_ADDRESS_SPACE = "weft";

    /** An answer: HTTP status and JSON body. */
    public record Answer(int status, JsonNode body) {
        public byte[] bytes() {
            try {
                return JSON.writeValueAsBytes(body);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A call Docker may make, and what serves it. */
    private interface Call {
        JsonNode serve(JsonNode request);
    }

    private final HostNetworks networks;
    private final HostOverlay host;
    private final DockerNetworkIds ids;
    private final Map<String, Call> calls = new HashMap<>();
    /** Pools handed out without a network yet (between RequestPool and CreateNetwork), to plan around. */
    private final Set<IpPrefix> pendingPools = ConcurrentHashMap.newKeySet();

    /** @param networks this host's networks (joined on CreateNetwork and Join, kept reconciled by it) */
    public DockerRemoteApi(HostNetworks networks, DockerPluginSettings settings) {
        this.networks = Objects.requireNonNull(networks, "networks");
        this.host = networks.overlay();
        this.ids = new DockerNetworkIds(settings.networkIdsFile());
        calls.put("/Plugin.Activate", r -> object().set("Implements",
                NODES.arrayNode().add("NetworkDriver").add("IpamDriver")));
        calls.put("/NetworkDriver.GetCapabilities", r -> object().put("Scope", "local")
                .put("ConnectivityScope", "local"));
        calls.put("/NetworkDriver.CreateNetwork", this::createNetwork);
        calls.put("/NetworkDriver.DeleteNetwork", this::deleteNetwork);
        calls.put("/NetworkDriver.CreateEndpoint", this::createEndpoint);
        calls.put("/NetworkDriver.EndpointOperInfo", r -> object().set("Value", object()));
        calls.put("/NetworkDriver.DeleteEndpoint", this::deleteEndpoint);
        calls.put("/NetworkDriver.Join", this::join);
        calls.put("/NetworkDriver.Leave", this::leave);
        for (String nothing : List.of("DiscoverNew", "DiscoverDelete", "ProgramExternalConnectivity",
                "RevokeExternalConnectivity")) {
            calls.put("/NetworkDriver." + nothing, r -> object());
        }
        calls.put("/IpamDriver.GetCapabilities", r -> object().put("RequiresMACAddress", false));
        calls.put("/IpamDriver.GetDefaultAddressSpaces", r -> object()
                .put("LocalDefaultAddressSpace", LOCAL_ADDRESS_SPACE)
                .put("GlobalDefaultAddressSpace", GLOBAL_ADDRESS_SPACE));
        calls.put("/IpamDriver.RequestPool", this::requestPool);
        calls.put("/IpamDriver.ReleasePool", this::releasePool);
        calls.put("/IpamDriver.RequestAddress", this::requestAddress);
        calls.put("/IpamDriver.ReleaseAddress", this::releaseAddress);
    }

    /** Serves one call; never throws. */
    public Answer handle(String path, byte[] body) {
        Call call = calls.get(path);
        if (call == null) {
            LOG.warn("docker: unknown method {}", path);
            return error(404, "unknown method " + path + " (weft implements NetworkDriver and IpamDriver)");
        }
        JsonNode request;
        try {
            request = body == null || body.length == 0 ? object() : JSON.readTree(body);
            if (request == null || request.isNull() || request.isMissingNode()) {
                request = object();
            }
            if (!request.isObject()) {
                return error(400, path + ": the body must be a JSON object");
            }
        } catch (JsonProcessingException e) {
            return error(400, path + ": invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            return error(400, path + ": unreadable body: " + e.getMessage());
        }
        try {
            return new Answer(200, call.serve(request));
        } catch (RuntimeException e) {
            String message = e.getMessage() != null ? e.getMessage() : e.toString();
            LOG.warn("docker: {} failed: {}", path, message);
            return error(500, message);
        }
    }

    static Answer error(int status, String message) {
        return new Answer(status, object().put("Err", message));
    }

    /** Nothing to release: the host's networks (and their watches) belong to {@link HostNetworks}. */
    @Override
    public void close() {
    }

    // ---------------------------------------------------------------- IPAM driver

    private JsonNode requestPool(JsonNode r) {
        if (r.path("V6").asBoolean(false)) {
            throw new IllegalArgumentException("weft's IPAM driver is IPv4 only: no IPv6 pools");
        }
        String poolText = text(r, "Pool");
        String subPool = text(r, "SubPool");
        if (subPool != null && !subPool.equals(poolText)) {
            throw new IllegalArgumentException("sub-pools (--ip-range) are not supported by weft: each host "
                    + "allocates from its own subnet of the pool");
        }
        List<Network> networks = host.view().networks();
        IpPrefix pool;
        if (poolText != null) {
            pool = DockerPools.parseCidr(poolText, "pool");
            for (Network n : networks) {
                if (!n.cidr().equals(pool) && DockerPools.overlaps(n.cidr(), pool)) {
                    throw new IllegalArgumentException("pool " + pool + " overlaps weft network '" + n.name()
                            + "' (" + n.cidr() + ")");
                }
            }
        } else {
            synchronized (pendingPools) {
                List<IpPrefix> taken = new ArrayList<>(pendingPools);
                networks.forEach(n -> taken.add(n.cidr()));
                pool = DockerPools.freeBlock(host.settings().clusterRange(), host.settings().poolNetworkLength(),
                        taken).orElseThrow(() -> new IllegalStateException("no free /"
                        + host.settings().poolNetworkLength() + " left in weft's cluster range "
                        + host.settings().clusterRange() + ": give the network a --subnet"));
                pendingPools.add(pool);
            }
        }
        if (networks.stream().noneMatch(n -> n.cidr().equals(pool))) {
            pendingPools.add(pool);
        }
        LOG.debug("docker: pool {} requested", pool);
        ObjectNode answer = object().put("PoolID", DockerPools.poolId(pool)).put("Pool", pool.toString());
        answer.set("Data", object());
        return answer;
    }

    private JsonNode releasePool(JsonNode r) {
        IpPrefix pool = DockerPools.parsePoolId(required(r, "PoolID"));
        pendingPools.remove(pool);
        return object();
    }

    private JsonNode requestAddress(JsonNode r) {
        IpPrefix pool = DockerPools.parsePoolId(required(r, "PoolID"));
        String wanted = text(r, "Address");
        Optional<Network> network = networkWithPool(pool);
        if (GATEWAY_TYPE.equals(r.path("Options").path(ADDRESS_TYPE).asText(null))) {
            Inet4Address gateway;
            int length;
            if (network.isPresent()) {
                HostLease lease = host.keeper().lease(network.get().name());
                gateway = DockerPools.gateway(lease.subnet());
                length = lease.subnet().length();
            } else {
                // The network is created (CreateNetwork) after Docker asked for its gateway. A new network's
                // first lease is its first subnet: this host takes it right after creating the network.
                length = Math.min(30, Math.max(host.settings().defaultSubnetLength(), pool.length()));
                gateway = DockerPools.gateway(new IpPrefix(pool.address(), length));
            }
            if (wanted != null && !DockerPools.parseAddress(wanted).equals(gateway)) {
                throw new IllegalArgumentException("weft chooses each host's gateway (the first address of its "
                        + "subnet: " + gateway.getHostAddress() + " here); create the network without --gateway");
            }
            return object().put("Address", DockerPools.withLength(gateway, length)).set("Data", object());
        }
        if (wanted != null) {
            // Docker asks again for the addresses its endpoints hold when it restarts: those are answered as they are
            Inet4Address ip = DockerPools.parseAddress(wanted);
            Optional<Endpoint> held = network.flatMap(n -> host.ipam().endpoints(n.name()).stream()
                    .filter(e -> e.ip().equals(ip) && e.host().equals(host.keeper().host())).findFirst());
            if (held.isEmpty()) {
                throw new IllegalArgumentException("static addresses (--ip " + wanted + ") are not supported by "
                        + "weft: each host allocates from its own subnet");
            }
            int length = host.keeper().current(network.get().name()).map(l -> l.subnet().length())
                    .orElse(network.get().subnetLength());
            return object().put("Address", DockerPools.withLength(ip, length)).set("Data", object());
        }
        Network n = network.orElseThrow(() -> new IllegalArgumentException("pool " + pool
                + " has no weft network yet: create the network with --driver weft --ipam-driver weft first"));
        String placeholder = PLACEHOLDER_PREFIX + HexFormat.of().formatHex(randomBytes(8));
        Endpoint e = host.ipam().allocate(n.name(), placeholder, placeholder);
        int length = host.keeper().current(n.name()).map(l -> l.subnet().length()).orElse(n.subnetLength());
        LOG.debug("docker: address {} of network {} requested", e.ip().getHostAddress(), n.name());
        return object().put("Address", DockerPools.withLength(e.ip(), length)).set("Data", object());
    }

    private JsonNode releaseAddress(JsonNode r) {
        IpPrefix pool = DockerPools.parsePoolId(required(r, "PoolID"));
        Inet4Address ip = DockerPools.parseAddress(required(r, "Address"));
        Optional<Network> network = networkWithPool(pool);
        if (network.isEmpty()) {
            return object(); // its network was deleted before (the gateway is released after DeleteNetwork)
        }
        String name = network.get().name();
        Optional<Endpoint> e = host.ipam().endpoints(name).stream().filter(x -> x.ip().equals(ip)).findFirst();
        if (e.isEmpty()) {
            return object(); // a gateway, or released already
        }
        if (!e.get().host().equals(host.keeper().host())) {
            LOG.warn("docker: not releasing {} of network {}: it belongs to host {}", ip.getHostAddress(), name,
                    e.get().host());
            return object();
        }
        host.ipam().release(name, e.get().id());
        LOG.debug("docker: released {} of network {}", ip.getHostAddress(), name);
        return object();
    }

    // ---------------------------------------------------------------- network driver

    private JsonNode createNetwork(JsonNode r) {
        String dockerId = required(r, "NetworkID");
        JsonNode v4 = r.path("IPv4Data");
        if (!v4.isArray() || v4.size() != 1) {
            throw new IllegalArgumentException("a weft network has exactly one IPv4 pool (got "
                    + (v4.isArray() ? v4.size() : 0) + "); use --ipam-driver weft");
        }
        if (r.path("IPv6Data").isArray() && !r.path("IPv6Data").isEmpty()) {
            throw new IllegalArgumentException("weft networks are IPv4 only");
        }
        IpPrefix pool = DockerPools.parseCidr(required(v4.get(0), "Pool"), "pool");
        JsonNode generic = r.path("Options").path(GENERIC_OPTIONS);
        String nameOption = text(generic, "name");
        int mtu = intOption(generic, "mtu");
        int vni = intOption(generic, "vni");
        List<Network> networks = host.view().networks();
        Optional<Network> existing = networks.stream().filter(n -> n.id().equals(dockerId)).findFirst();
        if (existing.isEmpty()) {
            existing = networks.stream().filter(n -> n.cidr().equals(pool)).findFirst();
        }
        Network network;
        if (existing.isPresent()) {
            network = existing.get();
            if (nameOption != null && !nameOption.equals(network.name())) {
                throw new IllegalArgumentException("pool " + pool + " belongs to weft network '" + network.name()
                        + "', not '" + nameOption + "'");
            }
            if (!network.cidr().equals(pool)) {
                throw new IllegalArgumentException("weft network '" + network.name() + "' has " + network.cidr()
                        + ", not " + pool);
            }
            if (vni != 0 && vni != network.vni() || mtu != 0 && mtu != network.mtu()) {
                throw new IllegalArgumentException("weft network '" + network.name() + "' exists with vni "
                        + network.vni() + " and mtu " + network.mtu() + "; create it here with the same options");
            }
        } else {
            String name = nameOption != null ? nameOption : dockerId;
            Optional<Network> sameName = networks.stream().filter(n -> n.name().equals(name)).findFirst();
            if (sameName.isPresent()) {
                throw new IllegalArgumentException("weft network '" + name + "' exists with "
                        + sameName.get().cidr() + ": create it on this host with --subnet " + sameName.get().cidr());
            }
            network = host.registry().create(new NetworkRequest(name, dockerId, pool, 0, vni, mtu));
        }
        ids.put(dockerId, network.name());
        pendingPools.remove(pool);
        HostLease lease = host.keeper().lease(network.name());
        String gateway = text(v4.get(0), "Gateway");
        if (gateway != null && !DockerPools.parseAddress(gateway).equals(DockerPools.gateway(lease.subnet()))) {
            LOG.warn("docker: network {}: Docker holds gateway {}, this host's is {} (containers get the right one "
                    + "at Join)", network.name(), gateway, DockerPools.gateway(lease.subnet()).getHostAddress());
        }
        LOG.info("docker: {} network {} ({}, vni {}) for Docker network {}; this host's subnet {}",
                existing.isPresent() ? "joined" : "created", brief(network.name()), network.cidr(), network.vni(),
                brief(dockerId), lease.subnet());
        return object();
    }

    private JsonNode deleteNetwork(JsonNode r) {
        String dockerId = required(r, "NetworkID");
        Optional<Network> network = networkFor(dockerId);
        ids.remove(dockerId);
        if (network.isEmpty()) {
            LOG.info("docker: deleted Docker network {} (no weft network: nothing to do)", brief(dockerId));
            return object();
        }
        Network n = network.get();
        if (ids.usedBy(n.name())) {
            LOG.info("docker: deleted Docker network {}; weft network {} stays (another Docker network uses it)",
                    brief(dockerId), brief(n.name()));
            return object();
        }
        networks.leave(n.name());
        List<HostLease> others = host.view().leases(n.name());
        String outcome;
        if (!others.isEmpty()) {
            outcome = "kept in the registry (" + others.size() + " other host(s) hold a subnet)";
        } else {
            try {
                outcome = host.registry().delete(n.name()) ? "deleted from the registry" : "already gone";
            } catch (IllegalStateException e) {
                outcome = "kept in the registry: " + e.getMessage();
            }
        }
        LOG.info("docker: deleted network {} on this host for Docker network {}; {}", brief(n.name()),
                brief(dockerId), outcome);
        return object();
    }

    private JsonNode createEndpoint(JsonNode r) {
        Network n = requireNetwork(required(r, "NetworkID"));
        String endpointId = required(r, "EndpointID");
        JsonNode iface = r.path("Interface");
        String address = text(iface, "Address");
        if (address == null) {
            throw new IllegalArgumentException("endpoint " + endpointId + " has no IPv4 address: weft networks need "
                    + "--ipam-driver weft");
        }
        if (text(iface, "AddressIPv6") != null) {
            throw new IllegalArgumentException("weft networks are IPv4 only");
        }
        Inet4Address ip = DockerPools.parseAddress(address);
        String macText = text(iface, "MacAddress");
        MacAddress mac = macText == null ? null : MacAddress.parse(macText);
        Endpoint e;
        try {
            e = host.ipam().bind(n.name(), ip, endpointId, endpointId, mac);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("address " + address + " was not allocated by weft's IPAM driver on "
                    + "this host (" + ex.getMessage() + "); create the network with --ipam-driver weft");
        }
        LOG.debug("docker: endpoint {} of network {} has {}", endpointId, n.name(), e.ip().getHostAddress());
        ObjectNode answer = object();
        if (mac == null) {
            answer.set("Interface", object().put("MacAddress", e.mac().toString()));
        }
        return answer;
    }

    private JsonNode deleteEndpoint(JsonNode r) {
        String endpointId = required(r, "EndpointID");
        Optional<Endpoint> e = host.ipam().find(endpointId);
        if (e.isPresent()) {
            host.dataPlane().detach(e.get()); // when Leave did not come
        }
        return object();
    }

    private JsonNode join(JsonNode r) {
        Network n = requireNetwork(required(r, "NetworkID"));
        String endpointId = required(r, "EndpointID");
        Endpoint e = host.ipam().find(n.name(), endpointId).orElseThrow(() -> new IllegalArgumentException(
                "unknown endpoint " + endpointId + " of network " + n.name()));
        HostLease lease = networks.join(n.name());
        String srcName = host.dataPlane().prepareVeth(n, lease, e);
        Inet4Address gateway = DockerPools.gateway(lease.subnet());
        LOG.info("docker: joined endpoint {} ({}) to network {} via {}, sandbox {}", brief(endpointId),
                e.ip().getHostAddress(), brief(n.name()), srcName, text(r, "SandboxKey"));
        ObjectNode answer = object();
        answer.set("InterfaceName", object().put("SrcName", srcName).put("DstPrefix", "eth"));
        answer.put("Gateway", gateway.getHostAddress());
        answer.set("StaticRoutes", NODES.arrayNode());
        return answer;
    }

    private JsonNode leave(JsonNode r) {
        String endpointId = required(r, "EndpointID");
        Optional<Endpoint> e = host.ipam().find(endpointId);
        boolean removed = e.isPresent() && host.dataPlane().detach(e.get());
        LOG.info("docker: endpoint {} left network {}{}", brief(endpointId), e.map(x -> brief(x.network())).orElse("?"),
                removed ? "" : " (its veth was gone already)");
        return object();
    }

    // ---------------------------------------------------------------- helpers

    private Optional<Network> networkFor(String dockerId) {
        Optional<String> name = ids.name(dockerId);
        if (name.isPresent()) {
            return host.view().network(name.get());
        }
        return host.view().networks().stream().filter(n -> n.id().equals(dockerId)).findFirst();
    }

    private Network requireNetwork(String dockerId) {
        return networkFor(dockerId).orElseThrow(() -> new IllegalArgumentException("unknown network " + dockerId
                + ": it was not created through weft's driver on this host"));
    }

    private Optional<Network> networkWithPool(IpPrefix pool) {
        return host.view().networks().stream().filter(n -> n.cidr().equals(pool)).findFirst();
    }

    /** Docker's short form (12 digits) of a 64-digit hex ID, for log lines; anything else as it is. */
    static String brief(String id) {
        return id != null && id.length() == 64 && id.chars().allMatch(c -> Character.digit(c, 16) >= 0)
                ? id.substring(0, 12) : id;
    }

    private static ObjectNode object() {
        return NODES.objectNode();
    }

    /** A non-empty text field, or null. */
    private static String text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        String s = v.asText();
        return s.isEmpty() ? null : s;
    }

    private static String required(JsonNode node, String field) {
        String s = text(node, field);
        if (s == null) {
            throw new IllegalArgumentException("missing " + field);
        }
        return s;
    }

    private static int intOption(JsonNode generic, String name) {
        String s = text(generic, name);
        if (s == null) {
            return 0;
        }
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be a number, not '" + s + "'");
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
