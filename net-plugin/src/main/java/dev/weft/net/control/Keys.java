package dev.weft.net.control;

import java.util.regex.Pattern;

/**
 * The control plane's key layout in the replicated KV store, in one place (names ↔ keys, both ways):
 * <pre>
 * _weft/net/registry                         all networks (the CAS point of create/delete)
 * _weft/net/networks/&lt;name&gt;                one network (mirror, written in the same transaction)
 * _weft/net/leases/&lt;name&gt;/&lt;subnet address&gt;  a host's subnet, locked by its session (behavior delete)
 * _weft/net/endpoints/&lt;name&gt;/&lt;ip&gt;          an endpoint's address
 * </pre>
 */
final class Keys {
    static final String ROOT = "_weft/net/";
    static final String REGISTRY = ROOT + "registry";
    static final String NETWORKS = ROOT + "networks/";
    static final String LEASES = ROOT + "leases/";
    static final String ENDPOINTS = ROOT + "endpoints/";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private Keys() {
    }

    /** @throws IllegalArgumentException when {@code name} cannot name a network */
    static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid network name '" + name
                    + "': 1-64 characters, a letter or digit first, then letters, digits, '_', '.', '-'");
        }
        return name;
    }

    static String network(String name) {
        return NETWORKS + checkName(name);
    }

    static String leases(String network) {
        return LEASES + checkName(network) + "/";
    }

    static String lease(String network, Ipv4Block subnet) {
        return leases(network) + Ipv4Block.format(subnet.base());
    }

    static String endpoints(String network) {
        return ENDPOINTS + checkName(network) + "/";
    }

    static String endpoint(String network, int ip) {
        return endpoints(network) + Ipv4Block.format(ip);
    }

    /** The network named in a lease or endpoint key ({@code …/<network>/<address>}). */
    static String networkOf(String key) {
        String rest = afterRoot(key);
        int slash = rest.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a lease or endpoint key: " + key);
        }
        return rest.substring(0, slash);
    }

    /** The address at the end of a lease key (the subnet's base) or endpoint key (the endpoint's IP). */
    static int addressOf(String key) {
        String rest = afterRoot(key);
        int slash = rest.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a lease or endpoint key: " + key);
        }
        return Ipv4Block.parseAddress(rest.substring(slash + 1));
    }

    private static String afterRoot(String key) {
        if (key.startsWith(LEASES)) {
            return key.substring(LEASES.length());
        }
        if (key.startsWith(ENDPOINTS)) {
            return key.substring(ENDPOINTS.length());
        }
        throw new IllegalArgumentException("not a lease or endpoint key: " + key);
    }
}
