package dev.weft.runtime;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A network from {@code GET /networks/{id}} (inspect).
 *
 * @param id      full network ID
 * @param name    its name ("bridge", "host", a user-defined name)
 * @param driver  "bridge", "host", "null", "overlay", a plugin's name
 * @param scope   "local", "swarm", "global"
 * @param subnets IPAM.Config entries (subnet and gateway; either may be "")
 * @param labels  Labels
 * @param options Options (driver options such as com.docker.network.bridge.name)
 */
public record Network(String id, String name, String driver, String scope, List<Subnet> subnets,
                      Map<String, String> labels, Map<String, String> options) {
    public Network {
        Objects.requireNonNull(id);
        name = name == null ? "" : name;
        driver = driver == null ? "" : driver;
        scope = scope == null ? "" : scope;
        subnets = subnets == null ? List.of() : List.copyOf(subnets);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        options = options == null ? Map.of() : Map.copyOf(options);
    }

    /** One IPAM pool: CIDR subnet ("172.17.0.0/16", "fd00::/64") and gateway address. */
    public record Subnet(String subnet, String gateway) {
        public Subnet {
            subnet = subnet == null ? "" : subnet;
            gateway = gateway == null ? "" : gateway;
        }
    }
}
