package dev.weft.net.cni;

import com.fasterxml.jackson.databind.JsonNode;
import dev.weft.net.control.NetworkRegistry;
import dev.weft.net.netlink.IpPrefix;

import java.util.ArrayList;
import java.util.List;

/**
 * weft's network configuration, as a runtime hands it to the plugin on stdin (alone or as one plugin of a
 * conflist, with the list's {@code name} and {@code cniVersion} injected):
 * <pre>
 * {"cniVersion":"1.0.0", "name":"blue", "type":"weft-cni",
 *  "network":"blue",          optional: the weft network (default: name)
 *  "subnet":"10.200.0.0/16",  optional: create the network with this CIDR when it does not exist
 *  "mtu":1400,                optional: its MTU when created (0 = underlay MTU - 50)
 *  "agentSocket":"/run/weft/cni.sock"}   optional: read by the executable only
 * </pre>
 * plus what runtimes add: {@code runtimeConfig}, {@code prevResult} (CHECK), {@code cni.dev/valid-attachments}
 * (GC), {@code dns}. Pure.
 *
 * @param validAttachments GC's list of (container ID, interface), or null when the config has none
 */
record CniConfig(String cniVersion, String name, String type, String network, IpPrefix subnet, int mtu,
                 JsonNode runtimeConfig, JsonNode prevResult, JsonNode dns, List<Attachment> validAttachments) {

    /** One attachment a runtime still knows (GC). */
    record Attachment(String containerId, String ifName) {
    }

    /** The version a config names, or {@link CniVersions#LATEST} when it names none (for error answers). */
    static String versionOf(JsonNode config) {
        JsonNode v = config == null ? null : config.get("cniVersion");
        return v != null && v.isTextual() && CniVersions.supported(v.asText()) ? v.asText() : CniVersions.LATEST;
    }

    /**
     * Reads and checks a config.
     *
     * @throws CniException 1 for a version weft does not speak, 7 for a missing or invalid field, 2 for a
     *                      runtime setting weft cannot honour (static IPs, MACs)
     */
    static CniConfig parse(JsonNode c) {
        if (c == null || !c.isObject()) {
            throw new CniException(CniException.DECODE_FAILURE, "the network configuration must be a JSON object");
        }
        String version = text(c, "cniVersion");
        if (version == null) {
            throw new CniException(CniException.INVALID_CONFIG, "the network configuration has no cniVersion");
        }
        if (!CniVersions.supported(version)) {
            throw new CniException(CniException.INCOMPATIBLE_VERSION, "incompatible CNI versions",
                    "config is \"" + version + "\", plugin supports " + CniVersions.SUPPORTED);
        }
        String name = text(c, "name");
        if (name == null) {
            throw new CniException(CniException.INVALID_CONFIG, "the network configuration has no name");
        }
        String network = text(c, "network") != null ? text(c, "network") : name;
        try {
            NetworkRegistry.checkName(network);
        } catch (IllegalArgumentException e) {
            throw new CniException(CniException.INVALID_CONFIG, "invalid weft network name", e.getMessage());
        }
        IpPrefix subnet = null;
        String subnetText = text(c, "subnet");
        if (subnetText != null) {
            try {
                subnet = IpPrefix.parse(subnetText);
            } catch (RuntimeException e) {
                throw new CniException(CniException.INVALID_CONFIG, "invalid subnet '" + subnetText + "'",
                        e.getMessage());
            }
            if (!subnet.isIpv4() || !subnetText.equals(subnet.toString())) {
                throw new CniException(CniException.INVALID_CONFIG, "invalid subnet '" + subnetText
                        + "': an IPv4 CIDR with no host bits, like 10.200.0.0/16");
            }
        }
        int mtu = 0;
        JsonNode mtuNode = c.get("mtu");
        if (mtuNode != null && !mtuNode.isNull()) {
            if (!mtuNode.canConvertToInt() || !mtuNode.isIntegralNumber() || mtuNode.asInt() != 0
                    && (mtuNode.asInt() < 576 || mtuNode.asInt() > 9000)) {
                throw new CniException(CniException.INVALID_CONFIG, "invalid mtu " + mtuNode
                        + ": a number from 576 to 9000");
            }
            mtu = mtuNode.asInt();
        }
        JsonNode runtime = c.path("runtimeConfig");
        for (String unsupported : List.of("ips", "mac")) {
            JsonNode v = runtime.get(unsupported);
            if (given(v)) {
                throw new CniException(CniException.UNSUPPORTED_FIELD, "runtimeConfig." + unsupported
                        + " is not supported by weft", "each host allocates addresses (and MACs) from its own subnet");
            }
        }
        return new CniConfig(version, name, text(c, "type"), network, subnet, mtu, runtime, c.get("prevResult"),
                c.get("dns"), attachments(c));
    }

    private static List<Attachment> attachments(JsonNode c) {
        JsonNode list = c.get("cni.dev/valid-attachments");
        if (list == null || list.isNull()) {
            list = c.get("cni.dev/attachments"); // libcni sets both (the spec once named it so)
        }
        if (list == null || list.isNull()) {
            return null;
        }
        if (!list.isArray()) {
            throw new CniException(CniException.INVALID_CONFIG, "cni.dev/valid-attachments must be an array");
        }
        List<Attachment> out = new ArrayList<>();
        for (JsonNode a : list) {
            String id = text(a, "containerID");
            String ifName = text(a, "ifname");
            if (id == null || ifName == null) {
                throw new CniException(CniException.INVALID_CONFIG,
                        "every cni.dev/valid-attachments entry needs containerID and ifname: " + a);
            }
            out.add(new Attachment(id, ifName));
        }
        return out;
    }

    /** Whether a value is there: not missing, null, an empty string, array or object. */
    private static boolean given(JsonNode v) {
        if (v == null || v.isNull()) {
            return false;
        }
        return v.isContainerNode() ? !v.isEmpty() : !(v.isTextual() && v.asText().isEmpty());
    }

    /** A non-empty text field, or null. */
    static String text(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        if (v == null || v.isNull() || !v.isValueNode()) {
            return null;
        }
        String s = v.asText();
        return s.isEmpty() ? null : s;
    }
}
