package dev.weft.registrator;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.weft.runtime.Container;
import dev.weft.runtime.Container.NetworkAttachment;
import dev.weft.runtime.Container.PortSpec;
import dev.weft.runtime.Container.PublishedPort;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns one inspected container into the services it offers, with Registrator's conventions (see the module README
 * for the full table). Pure: no I/O, no clock; the same container and config always give the same list, sorted by
 * container port and protocol.
 */
public final class ServiceMapper {
    /** Registrator's default check interval. */
    static final String DEFAULT_INTERVAL = "10s";
    /** Consul's default check timeout, written out. */
    static final String DEFAULT_TIMEOUT = "10s";
    static final String DOCKER_HEALTH_SUFFIX = ":docker-health";

    /** Catalog limits (kvstore's Catalogs): a registration beyond them would be refused on every retry. */
    private static final int MAX_META_PAIRS = 64;
    private static final int MAX_META_KEY_BYTES = 128;
    private static final int MAX_META_VALUE_BYTES = 512;
    private static final int MAX_TAGS = 64;
    private static final int MAX_TAG_BYTES = 256;
    private static final int MAX_OUTPUT_BYTES = 4096;

    private static final Pattern GO_DURATION = Pattern.compile("([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h)");
    private static final Pattern META_KEY_BAD = Pattern.compile("[^A-Za-z0-9_-]");
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private ServiceMapper() {
    }

    /** Where a service's address comes from. */
    private enum AddressMode { HOST_PUBLISHED, HOST_NETWORK, CONTAINER }

    /** One port that may become a service: container port, registered address and registered port. */
    private record Candidate(PortSpec spec, String address, int port) {
    }

    /**
     * The services of {@code c}: none when it is not running, has no usable address, or every port is ignored.
     * A container in {@code container:<id>} network mode has no networks of its own; the caller passes it with the
     * networks of the container it shares them with.
     */
    public static List<RegisteredService> map(Container c, RegistratorConfig cfg) {
        return map(c, null, cfg);
    }

    /**
     * As {@link #map(Container, RegistratorConfig)}, for a container in {@code container:<id>} network mode: its
     * network mode and addresses are those of {@code sharedWith} (null when unknown or not applicable).
     */
    static List<RegisteredService> map(Container c, Container sharedWith, RegistratorConfig cfg) {
        if (!c.running()) {
            return List.of();
        }
        boolean shares = sharedWith != null && c.networkMode().startsWith("container:");
        String mode = shares ? sharedWith.networkMode() : c.networkMode();
        Map<String, NetworkAttachment> nets = shares ? sharedWith.networks() : c.networks();
        ContainerMetadata md = ContainerMetadata.of(c.env(), c.labels());
        List<Candidate> candidates = candidates(c, mode, nets, md, cfg);
        boolean group = candidates.size() > 1;
        List<RegisteredService> out = new ArrayList<>(candidates.size());
        Set<String> ids = new LinkedHashSet<>();
        for (Candidate cand : candidates) {
            RegisteredService s = service(c, md.forPort(cand.spec.port()), cand, group, cfg);
            if (s != null && ids.add(s.id())) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    private static List<Candidate> candidates(Container c, String mode, Map<String, NetworkAttachment> networks,
                                              ContainerMetadata md, RegistratorConfig cfg) {
        if (mode.equals("none")) {
            return List.of();
        }
        if (mode.equals("host")) {
            String address = cfg.forcedIp() != null ? cfg.forcedIp() : cfg.hostIp();
            List<PortSpec> ports = hostNetworkPorts(c, md.generic(ContainerMetadata.PORTS));
            List<Candidate> out = new ArrayList<>();
            for (PortSpec p : ports) {
                out.add(new Candidate(p, address, p.port()));
            }
            return out;
        }
        NetworkAttachment net = network(mode, networks, md, cfg);
        if (net == NO_ADDRESS) {
            return List.of();
        }
        if (net != null) {
            String address = !net.ipv4().isEmpty() ? net.ipv4() : net.ipv6();
            TreeSet<PortSpec> ports = new TreeSet<>(PORT_ORDER);
            ports.addAll(c.exposed());
            for (PublishedPort p : c.published()) {
                ports.add(p.container());
            }
            List<Candidate> out = new ArrayList<>();
            for (PortSpec p : ports) {
                out.add(new Candidate(p, address, p.port()));
            }
            return out;
        }
        Map<PortSpec, PublishedPort> byPort = new TreeMap<>(PORT_ORDER);
        for (PublishedPort p : c.published()) {
            if (p.hostPort() <= 0) {
                continue;
            }
            PublishedPort have = byPort.get(p.container());
            if (have == null || BINDING_ORDER.compare(p, have) < 0) {
                byPort.put(p.container(), p);
            }
        }
        List<Candidate> out = new ArrayList<>();
        for (PublishedPort p : byPort.values()) {
            String address = cfg.forcedIp() != null ? cfg.forcedIp()
                    : isWildcard(p.hostIp()) ? cfg.hostIp() : p.hostIp();
            out.add(new Candidate(p.container(), address, p.hostPort()));
        }
        return out;
    }

    /** Marks "a network was asked for but gives no address": the container gets no services (yet). */
    private static final NetworkAttachment NO_ADDRESS = new NetworkAttachment("", "", "");

    /**
     * The network whose container address is registered, null for "the host's address and published ports", or
     * {@link #NO_ADDRESS}.
     */
    private static NetworkAttachment network(String mode, Map<String, NetworkAttachment> networks,
                                             ContainerMetadata md, RegistratorConfig cfg) {
        Map<String, NetworkAttachment> nets = new TreeMap<>(networks);
        String asked = md.generic(ContainerMetadata.NETWORK);
        if (asked != null) {
            NetworkAttachment a = attached(nets, asked);
            return a == null || !hasAddress(a) ? NO_ADDRESS : a;
        }
        if (cfg.useIpFromNetwork() != null) {
            NetworkAttachment a = attached(nets, cfg.useIpFromNetwork());
            if (a != null && hasAddress(a)) {
                return a;
            }
        }
        for (Map.Entry<String, NetworkAttachment> e : nets.entrySet()) {
            NetworkAttachment a = e.getValue();
            if (hasAddress(a) && (cfg.overlayNetwork().test(e.getKey())
                    || (!a.networkId().isEmpty() && cfg.overlayNetwork().test(a.networkId())))) {
                return a;
            }
        }
        if (!cfg.internal()) {
            return null;
        }
        NetworkAttachment own = nets.get(mode);
        if (own != null && hasAddress(own)) {
            return own;
        }
        for (NetworkAttachment a : nets.values()) {
            if (hasAddress(a)) {
                return a;
            }
        }
        return NO_ADDRESS;
    }

    /** The attachment to a network given by name or by (full or at least 12-character prefix of its) ID. */
    private static NetworkAttachment attached(Map<String, NetworkAttachment> nets, String nameOrId) {
        NetworkAttachment a = nets.get(nameOrId);
        if (a != null) {
            return a;
        }
        for (NetworkAttachment n : nets.values()) {
            if (!n.networkId().isEmpty() && (n.networkId().equals(nameOrId)
                    || (nameOrId.length() >= 12 && n.networkId().startsWith(nameOrId)))) {
                return n;
            }
        }
        return null;
    }

    private static boolean hasAddress(NetworkAttachment a) {
        return !a.ipv4().isEmpty() || !a.ipv6().isEmpty();
    }

    private static boolean isWildcard(String hostIp) {
        return hostIp.isEmpty() || hostIp.equals("0.0.0.0") || hostIp.equals("::");
    }

    private static final Comparator<PortSpec> PORT_ORDER =
            Comparator.comparingInt(PortSpec::port).thenComparing(PortSpec::protocol);

    /** IPv4 and wildcard bindings before IPv6 ones, then the lower host port. */
    private static final Comparator<PublishedPort> BINDING_ORDER =
            Comparator.comparingInt((PublishedPort p) -> p.hostIp().contains(":") ? 1 : 0)
                    .thenComparingInt(PublishedPort::hostPort);

    /** Host networking publishes nothing: the ports come from {@code weft.service.ports}, else the exposed ones. */
    private static List<PortSpec> hostNetworkPorts(Container c, String list) {
        TreeSet<PortSpec> ports = new TreeSet<>(PORT_ORDER);
        if (list != null) {
            for (String part : list.split("[,\\s]+")) {
                if (part.isEmpty()) {
                    continue;
                }
                try {
                    PortSpec p = PortSpec.parse(part.trim().toLowerCase(Locale.ROOT));
                    if (p.port() >= 1 && p.port() <= 65535) {
                        ports.add(p);
                    }
                } catch (NumberFormatException e) {
                    // not a port: skipped
                }
            }
        } else {
            ports.addAll(c.exposed());
        }
        return new ArrayList<>(ports);
    }

    private static RegisteredService service(Container c, ContainerMetadata.ForPort md, Candidate cand,
                                             boolean group, RegistratorConfig cfg) {
        if (truthy(md.get(ContainerMetadata.IGNORE))) {
            return null;
        }
        PortSpec spec = cand.spec();
        String proto = spec.protocol().toLowerCase(Locale.ROOT);
        boolean tcp = proto.equals("tcp");
        String portSuffix = spec.port() + (tcp ? "" : ":" + proto);

        String name = md.get(ContainerMetadata.NAME);
        if (name == null) {
            if (cfg.explicit()) {
                return null;
            }
            name = defaultName(c);
        }
        if (group && !md.fromPort(ContainerMetadata.NAME)) {
            name = name + "-" + spec.port();
        }
        String id = cfg.nodeName() + ":" + c.name() + ":" + portSuffix;
        String givenId = md.get(ContainerMetadata.ID);
        if (givenId != null) {
            id = group && !md.fromPort(ContainerMetadata.ID) ? givenId + ":" + portSuffix : givenId;
        }

        List<String> tags = new ArrayList<>(splitTags(md.get(ContainerMetadata.TAGS)));
        tags.addAll(cfg.tagsAlways());
        if (!tcp) {
            tags.add(proto);
        }
        tags = limitTags(tags);

        ObjectNode reg = JSON.objectNode();
        reg.put("ID", id);
        reg.put("Name", name);
        ArrayNode tagArray = reg.putArray("Tags");
        tags.forEach(tagArray::add);
        reg.put("Address", cand.address());
        reg.put("Port", cand.port());
        ObjectNode meta = reg.putObject("Meta");
        meta.put(RegisteredService.EXTERNAL_SOURCE_KEY, RegisteredService.EXTERNAL_SOURCE);
        meta.put(RegisteredService.CONTAINER_ID_KEY, c.id());
        for (Map.Entry<String, String> e : md.meta().entrySet()) {
            if (meta.size() >= MAX_META_PAIRS) {
                break;
            }
            String key = truncate(META_KEY_BAD.matcher(e.getKey()).replaceAll("_"), MAX_META_KEY_BYTES);
            if (!meta.has(key)) {
                meta.put(key, truncate(e.getValue(), MAX_META_VALUE_BYTES));
            }
        }

        ArrayNode checks = JSON.arrayNode();
        ObjectNode check = metadataCheck(md, id, name, cand, tcp);
        if (check != null) {
            checks.add(check);
        }
        RegisteredService.DockerHealth health = null;
        if (c.health() != null && !c.health().isEmpty()) {
            health = dockerHealth(id, c.health(), c.healthOutput());
            ObjectNode h = checks.addObject();
            h.put("CheckID", health.checkId());
            h.put("Name", "Docker health of " + c.name());
            h.put("Notes", "Docker HEALTHCHECK status of container " + c.name() + ", kept by the registrator");
            h.put("TTL", seconds(cfg.healthTtl().toSeconds()));
            h.put("Status", health.status());
        }
        if (!checks.isEmpty()) {
            reg.set("Checks", checks);
        }
        return new RegisteredService(id, reg, c.id(), health);
    }

    /**
     * The check from {@code SERVICE_CHECK_*}: one per service, as Registrator, picked in the order HTTP, HTTPS, TTL,
     * TCP. Its ID is {@code service:<id>} (Consul's for a service's only check), so a TTL is passed with
     * {@code PUT /v1/agent/check/pass/service:<id>}. HTTP and TCP checks apply to TCP ports only.
     */
    private static ObjectNode metadataCheck(ContainerMetadata.ForPort md, String id, String name, Candidate cand,
                                            boolean tcp) {
        String http = md.get(ContainerMetadata.CHECK_HTTP);
        String https = md.get(ContainerMetadata.CHECK_HTTPS);
        String ttl = md.get(ContainerMetadata.CHECK_TTL);
        boolean tcpCheck = truthy(md.get(ContainerMetadata.CHECK_TCP));
        ObjectNode check = JSON.objectNode();
        check.put("CheckID", "service:" + id);
        check.put("Name", "Service '" + name + "' check");
        String hostPort = hostPort(cand.address(), cand.port());
        boolean probes;
        if (http != null && tcp) {
            check.put("HTTP", "http://" + hostPort + path(http));
            probes = true;
        } else if (https != null && tcp) {
            check.put("HTTP", "https://" + hostPort + path(https));
            probes = true;
        } else if (ttl != null && positiveDuration(ttl)) {
            check.put("TTL", ttl);
            probes = false;
        } else if (tcpCheck && tcp) {
            check.put("TCP", hostPort);
            probes = true;
        } else {
            return null;
        }
        if (probes) {
            check.put("Interval", durationOr(md.get(ContainerMetadata.CHECK_INTERVAL), DEFAULT_INTERVAL));
            check.put("Timeout", durationOr(md.get(ContainerMetadata.CHECK_TIMEOUT), DEFAULT_TIMEOUT));
        }
        String status = md.get(ContainerMetadata.CHECK_INITIAL_STATUS);
        if (status != null) {
            status = status.toLowerCase(Locale.ROOT);
            if (status.equals("passing") || status.equals("warning") || status.equals("critical")) {
                check.put("Status", status);
            }
        }
        String deregister = md.get(ContainerMetadata.CHECK_DEREGISTER_AFTER);
        if (deregister != null && positiveDuration(deregister)) {
            check.put("DeregisterCriticalServiceAfter", deregister);
        }
        return check;
    }

    /**
     * Docker's health → the passthrough check: healthy → passing, unhealthy → critical, and starting → critical:
     * a container in its start period has not shown that it serves, and a warning instance is still in DNS answers.
     */
    static RegisteredService.DockerHealth dockerHealth(String serviceId, String dockerStatus, String output) {
        String status = switch (dockerStatus.toLowerCase(Locale.ROOT)) {
            case "healthy" -> "passing";
            default -> "critical";
        };
        String out = output == null || output.isBlank() ? "Docker health: " + dockerStatus : output;
        return new RegisteredService.DockerHealth("service:" + serviceId + DOCKER_HEALTH_SUFFIX, status,
                truncate(out, MAX_OUTPUT_BYTES));
    }

    /** Image base name: last path element without tag or digest; the container name for an image given by ID. */
    static String defaultName(Container c) {
        String image = c.image();
        int at = image.indexOf('@');
        if (at >= 0) {
            image = image.substring(0, at);
        }
        if (image.startsWith("sha256:") || image.isEmpty()) {
            return c.name();
        }
        int slash = image.lastIndexOf('/');
        String base = slash >= 0 ? image.substring(slash + 1) : image;
        int colon = base.indexOf(':');
        if (colon >= 0) {
            base = base.substring(0, colon);
        }
        return base.isEmpty() ? c.name() : base;
    }

    /** {@code SERVICE_TAGS}: comma-separated, "\," for a comma inside a tag; blanks dropped, duplicates once. */
    static List<String> splitTags(String s) {
        if (s == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length() && s.charAt(i + 1) == ',') {
                cur.append(',');
                i++;
            } else if (ch == ',') {
                out.add(cur.toString().trim());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        out.add(cur.toString().trim());
        out.removeIf(String::isEmpty);
        return out;
    }

    private static List<String> limitTags(List<String> tags) {
        Set<String> out = new LinkedHashSet<>();
        for (String t : tags) {
            if (t.isEmpty() || t.getBytes(StandardCharsets.UTF_8).length > MAX_TAG_BYTES) {
                continue;
            }
            if (out.size() < MAX_TAGS) {
                out.add(t);
            }
        }
        return new ArrayList<>(out);
    }

    /** Registrator counts any non-empty value as "yes"; weft also reads false/0/no/off as "no". */
    static boolean truthy(String v) {
        if (v == null) {
            return false;
        }
        String s = v.trim().toLowerCase(Locale.ROOT);
        return !(s.isEmpty() || s.equals("false") || s.equals("0") || s.equals("no") || s.equals("off"));
    }

    private static String path(String p) {
        return p.startsWith("/") ? p : "/" + p;
    }

    static String hostPort(String address, int port) {
        return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
    }

    private static String durationOr(String v, String fallback) {
        return v != null && positiveDuration(v.trim()) ? v.trim() : fallback;
    }

    /** A Go duration ("10s", "1m30s", "1.5h") greater than zero. */
    static boolean positiveDuration(String v) {
        if (v == null || v.isEmpty()) {
            return false;
        }
        String s = v.startsWith("+") ? v.substring(1) : v;
        Matcher m = GO_DURATION.matcher(s);
        int at = 0;
        boolean nonZero = false;
        while (m.find()) {
            if (m.start() != at) {
                return false;
            }
            at = m.end();
            nonZero |= m.group(1).chars().anyMatch(ch -> ch >= '1' && ch <= '9');
        }
        return at == s.length() && at > 0 && nonZero;
    }

    private static String seconds(long s) {
        return s + "s";
    }

    private static String truncate(String s, int maxBytes) {
        if (s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
            return s;
        }
        int end = Math.min(s.length(), maxBytes);
        while (end > 0 && s.substring(0, end).getBytes(StandardCharsets.UTF_8).length > maxBytes) {
            end--;
        }
        if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }
}
