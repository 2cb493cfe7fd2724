package dev.weft.registrator;

import dev.weft.runtime.Container;
import dev.weft.runtime.Container.NetworkAttachment;
import dev.weft.runtime.Container.PortSpec;
import dev.weft.runtime.Container.PublishedPort;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds {@link Container}s for tests: the one place that calls its constructor. */
final class TestContainers {
    private TestContainers() {
    }

    /** A running container named {@code name} in bridge mode (172.17.0.2), image "example/NAME:1". */
    static Builder container(String name) {
        return new Builder(name);
    }

    /** A 64-hex-digit container ID derived from the name. */
    static String idOf(String name) {
        StringBuilder sb = new StringBuilder();
        for (char ch : name.toCharArray()) {
            sb.append(String.format("%02x", (int) ch & 0xff));
        }
        while (sb.length() < 64) {
            sb.append('0');
        }
        return sb.substring(0, 64);
    }

    static final class Builder {
        private String id;
        private final String name;
        private String image;
        private boolean running = true;
        private String health;
        private String healthOutput = "";
        private final Map<String, String> env = new LinkedHashMap<>();
        private final Map<String, String> labels = new LinkedHashMap<>();
        private String networkMode = "bridge";
        private final Map<String, NetworkAttachment> networks = new LinkedHashMap<>();
        private final List<PortSpec> exposed = new ArrayList<>();
        private final List<PublishedPort> published = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
            this.id = idOf(name);
            this.image = "example/" + name + ":1";
            networks.put("bridge", new NetworkAttachment("netbridge", "172.17.0.2", ""));
        }

        Builder id(String containerId) {
            this.id = containerId;
            return this;
        }

        Builder image(String ref) {
            this.image = ref;
            return this;
        }

        Builder stopped() {
            this.running = false;
            return this;
        }

        Builder health(String status, String output) {
            this.health = status;
            this.healthOutput = output;
            return this;
        }

        Builder env(String key, String value) {
            env.put(key, value);
            return this;
        }

        Builder label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        /** Network mode; "host" and "none" also drop the default bridge attachment. */
        Builder mode(String mode) {
            this.networkMode = mode;
            if (!mode.equals("bridge")) {
                networks.remove("bridge");
            }
            if (mode.equals("host")) {
                networks.put("host", new NetworkAttachment("nethost", "", ""));
            }
            return this;
        }

        Builder network(String netName, String ipv4, String ipv6) {
            networks.put(netName, new NetworkAttachment("id-" + netName, ipv4, ipv6));
            return this;
        }

        Builder noNetworks() {
            networks.clear();
            return this;
        }

        Builder expose(String... ports) {
            for (String p : ports) {
                exposed.add(PortSpec.parse(p));
            }
            return this;
        }

        /** Exposes {@code port} ("80" or "53/udp") and publishes it on every address at {@code hostPort}. */
        Builder publish(String port, int hostPort) {
            return publish(port, "0.0.0.0", hostPort);
        }

        Builder publish(String port, String hostIp, int hostPort) {
            PortSpec spec = PortSpec.parse(port);
            if (!exposed.contains(spec)) {
                exposed.add(spec);
            }
            published.add(new PublishedPort(spec, hostIp, hostPort));
            return this;
        }

        Container build() {
            return new Container(id, name, image, running, health, healthOutput, env, labels, networkMode, networks,
                    exposed, published);
        }
    }
}
