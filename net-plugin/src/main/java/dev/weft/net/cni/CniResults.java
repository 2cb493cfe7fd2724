package dev.weft.net.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.Inet4Address;
import java.util.List;

/** The JSON weft answers: ADD's result, errors, VERSION's answer, per spec version. Pure. */
final class CniResults {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private CniResults() {
    }

    /** An interface of a result: {@code sandbox} null for the host's side; {@code mtu} 0 when unknown. */
    record Interface(String name, String mac, String sandbox, int mtu) {
    }

    /**
     * ADD's (and a repeated ADD's) result: the host end and the container's interface, one IPv4 address on the
     * container's interface (index 1) with the host's gateway, a default route via it, and DNS when there is any.
     * Spec 0.3.x/0.4.0 results carry {@code "version":"4"} per address; 1.1.0 results the interfaces' MTU.
     */
    static ObjectNode add(String cniVersion, Interface host, Interface container, Inet4Address ip, int prefixLength,
                          Inet4Address gateway, List<String> nameservers, List<String> search, JsonNode configDns) {
        ObjectNode r = NODES.objectNode().put("cniVersion", cniVersion);
        boolean v11 = CniVersions.atLeast(cniVersion, "1.1.0");
        ArrayNode interfaces = r.putArray("interfaces");
        for (Interface i : List.of(host, container)) {
            ObjectNode o = interfaces.addObject().put("name", i.name());
            if (i.mac() != null) {
                o.put("mac", i.mac());
            }
            if (v11 && i.mtu() > 0) {
                o.put("mtu", i.mtu());
            }
            if (i.sandbox() != null) {
                o.put("sandbox", i.sandbox());
            }
        }
        ObjectNode address = r.putArray("ips").addObject();
        if (!CniVersions.atLeast(cniVersion, "1.0.0")) {
            address.put("version", "4");
        }
        address.put("interface", 1).put("address", ip.getHostAddress() + "/" + prefixLength)
                .put("gateway", gateway.getHostAddress());
        r.putArray("routes").addObject().put("dst", "0.0.0.0/0").put("gw", gateway.getHostAddress());
        if (!nameservers.isEmpty() || !search.isEmpty()) {
            ObjectNode dns = r.putObject("dns");
            nameservers.forEach(dns.putArray("nameservers")::add);
            if (!search.isEmpty()) {
                search.forEach(dns.putArray("search")::add);
            }
        } else if (configDns != null && configDns.isObject() && !configDns.isEmpty()) {
            r.set("dns", configDns.deepCopy());
        }
        return r;
    }

    /** {@code {"cniVersion","code","msg","details"}} ({@code details} left out when empty). */
    static ObjectNode error(String cniVersion, int code, String msg, String details) {
        ObjectNode r = NODES.objectNode().put("cniVersion", cniVersion).put("code", code).put("msg", msg);
        if (details != null && !details.isEmpty()) {
            r.put("details", details);
        }
        return r;
    }

    /** VERSION's answer. */
    static ObjectNode version() {
        ObjectNode r = NODES.objectNode().put("cniVersion", CniVersions.LATEST);
        CniVersions.SUPPORTED.forEach(r.putArray("supportedVersions")::add);
        return r;
    }
}
