package dev.weft.runtime;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the registrator needs to know about one container, from {@code GET /containers/{id}/json} (inspect).
 *
 * @param id          full container ID
 * @param name        name without the leading "/"
 * @param image       image reference as given (e.g. "redis:7", "registry:5000/team/web@sha256:…")
 * @param running     State.Running
 * @param health      State.Health.Status ("starting", "healthy", "unhealthy"), or null without a HEALTHCHECK
 * @param healthOutput last health-check output, or ""
 * @param env         Config.Env as a map (KEY=VALUE; a key without '=' maps to "")
 * @param labels      Config.Labels
 * @param networkMode HostConfig.NetworkMode ("bridge", "host", "none", a network name, "container:…")
 * @param networks    NetworkSettings.Networks: network name → addresses on it
 * @param exposed     Config.ExposedPorts ("80/tcp", "53/udp"), sorted
 * @param published   NetworkSettings.Ports entries with a host binding
 */
public record Container(String id, String name, String image, boolean running, String health, String healthOutput,
                        Map<String, String> env, Map<String, String> labels, String networkMode,
                        Map<String, NetworkAttachment> networks, List<PortSpec> exposed,
                        List<PublishedPort> published) {
    public Container {
        Objects.requireNonNull(id);
        name = name == null ? "" : name;
        image = image == null ? "" : image;
        healthOutput = healthOutput == null ? "" : healthOutput;
        env = env == null ? Map.of() : Map.copyOf(env);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        networkMode = networkMode == null ? "" : networkMode;
        networks = networks == null ? Map.of() : Map.copyOf(networks);
        exposed = exposed == null ? List.of() : List.copyOf(exposed);
        published = published == null ? List.of() : List.copyOf(published);
    }

    /** A container's port: number and protocol ("tcp", "udp", "sctp"). */
    public record PortSpec(int port, String protocol) {
        public PortSpec {
            protocol = protocol == null || protocol.isEmpty() ? "tcp" : protocol;
        }

        /** Parses Docker's "80/tcp" form. */
        public static PortSpec parse(String s) {
            int slash = s.indexOf('/');
            return slash < 0 ? new PortSpec(Integer.parseInt(s), "tcp")
                    : new PortSpec(Integer.parseInt(s.substring(0, slash)), s.substring(slash + 1));
        }

        @Override
        public String toString() {
            return port + "/" + protocol;
        }
    }

    /** A container port published on the host: {@code hostIp} "" or "0.0.0.0" means every address. */
    public record PublishedPort(PortSpec container, String hostIp, int hostPort) {
        public PublishedPort {
            hostIp = hostIp == null ? "" : hostIp;
        }
    }

    /** The container's addresses on one network; empty strings when it has none of that family. */
    public record NetworkAttachment(String networkId, String ipv4, String ipv6) {
        public NetworkAttachment {
            networkId = networkId == null ? "" : networkId;
            ipv4 = ipv4 == null ? "" : ipv4;
            ipv6 = ipv6 == null ? "" : ipv6;
        }
    }
}
