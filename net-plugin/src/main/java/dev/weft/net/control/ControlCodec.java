package dev.weft.net.control;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.net.model.Endpoint;
import dev.weft.net.model.HostLease;
import dev.weft.net.model.Network;
import dev.weft.net.netlink.IpPrefix;
import dev.weft.net.netlink.MacAddress;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON values of the control plane's keys (see {@link Keys}). Addresses, prefixes and MACs are strings
 * ({@code "10.200.3.0/24"}, {@code "0a:12:34:56:78:9a"}); unknown fields are ignored so that a newer agent
 * may add some.
 */
final class ControlCodec {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ControlCodec() {
    }

    record NetworkJson(String name, String id, String cidr, int subnetLength, int vni, int mtu) {
        static NetworkJson of(Network n) {
            return new NetworkJson(n.name(), n.id(), n.cidr().toString(), n.subnetLength(), n.vni(), n.mtu());
        }

        Network toNetwork() {
            return new Network(name, id, IpPrefix.parse(cidr), subnetLength, vni, mtu);
        }
    }

    record RegistryJson(List<NetworkJson> networks) {
    }

    /** A lease's value: the host's name and stable ID, its subnet, underlay address and VTEP MAC. */
    record LeaseJson(String host, String hostId, String subnet, String underlay, String vtepMac) {
        HostLease toLease(String network) {
            return new HostLease(network, host, IpPrefix.parse(subnet), ipv4(underlay), MacAddress.parse(vtepMac));
        }
    }

    record EndpointJson(String id, String containerId, String host, String ip, String mac) {
        Endpoint toEndpoint(String network) {
            return new Endpoint(network, id, containerId, host, ipv4(ip), MacAddress.parse(mac));
        }
    }

    /** The keeper's file: its session and the subnet it last held in each network. */
    record SessionFileJson(String session, Map<String, String> subnets) {
    }

    static byte[] registry(List<Network> networks) {
        return write(new RegistryJson(networks.stream().map(NetworkJson::of).toList()));
    }

    static List<Network> registry(byte[] value) {
        if (value.length == 0) {
            return List.of();
        }
        RegistryJson r = read(value, RegistryJson.class, Keys.REGISTRY);
        return r.networks() == null ? List.of() : r.networks().stream().map(NetworkJson::toNetwork).toList();
    }

    static byte[] network(Network n) {
        return write(NetworkJson.of(n));
    }

    static Network network(byte[] value, String key) {
        return read(value, NetworkJson.class, key).toNetwork();
    }

    static byte[] lease(HostLease lease, String hostId) {
        return write(new LeaseJson(lease.host(), hostId, lease.subnet().toString(),
                lease.underlay().getHostAddress(), lease.vtepMac().toString()));
    }

    static LeaseJson lease(byte[] value, String key) {
        return read(value, LeaseJson.class, key);
    }

    static byte[] endpoint(Endpoint e) {
        return write(new EndpointJson(e.id(), e.containerId(), e.host(), e.ip().getHostAddress(), e.mac().toString()));
    }

    static Endpoint endpoint(byte[] value, String key) {
        return read(value, EndpointJson.class, key).toEndpoint(Keys.networkOf(key));
    }

    static byte[] sessionFile(String session, Map<String, String> subnets) {
        return write(new SessionFileJson(session, new LinkedHashMap<>(subnets)));
    }

    static SessionFileJson sessionFile(byte[] value, String what) {
        SessionFileJson f = read(value, SessionFileJson.class, what);
        return new SessionFileJson(f.session(), f.subnets() == null ? Map.of() : f.subnets());
    }

    private static Inet4Address ipv4(String s) {
        return Ipv4Block.toInet(Ipv4Block.parseAddress(s));
    }

    private static byte[] write(Object o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + o, e);
        }
    }

    private static <T> T read(byte[] value, Class<T> type, String where) {
        try {
            return JSON.readValue(value, type);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("corrupt control-plane value at " + where + ": " + e.getMessage(), e);
        }
    }
}
