package dev.weft.agent;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the overlay network on this host (flags {@code -overlay*}).
 *
 * @param enabled           {@code -overlay}: run the overlay (needs root: netlink, namespaces)
 * @param underlay          {@code -overlay-underlay IP}: where other hosts send this host's VXLAN packets; null = the
 *                          agent's advertised address
 * @param dockerSocket      {@code -overlay-docker-socket PATH}: the Docker network/IPAM driver's socket, or null
 *                          ({@code none}) for no Docker driver
 * @param cniSocket         {@code -overlay-cni-socket PATH}: the socket {@code weft-cni} calls, or null ({@code none})
 * @param vxlanPort         {@code -overlay-vxlan-port} (4789)
 * @param mtu               {@code -overlay-underlay-mtu}: the underlay MTU, 0 = the underlay device's
 * @param leaseTtl          {@code -overlay-lease-ttl} (30s, at least 10s): how long a dead host keeps its subnets
 * @param reconcileInterval {@code -overlay-reconcile-interval} (30s)
 * @param gatewayDns        {@code -overlay-gateway-dns} (true): DNS also answers on each gateway address, port 53
 */
public record OverlaySettings(boolean enabled, String underlay, Path dockerSocket, Path cniSocket, int vxlanPort,
                              int mtu, Duration leaseTtl, Duration reconcileInterval, boolean gatewayDns) {
    public static final Path DEFAULT_DOCKER_SOCKET = Path.of("/run/docker/plugins/weft.sock");
    public static final Path DEFAULT_CNI_SOCKET = Path.of("/run/weft/cni.sock");

    public OverlaySettings {
        Objects.requireNonNull(leaseTtl, "leaseTtl");
        Objects.requireNonNull(reconcileInterval, "reconcileInterval");
        if (vxlanPort < 1 || vxlanPort > 65535) {
            throw new IllegalArgumentException("VXLAN port out of range: " + vxlanPort);
        }
        if (mtu != 0 && (mtu < 1280 || mtu > 65535)) {
            throw new IllegalArgumentException("underlay MTU must be between 1280 and 65535 (or 0 for the device's), got "
                    + mtu);
        }
        if (leaseTtl.toSeconds() < 10 || leaseTtl.toSeconds() > 86400) {
            throw new IllegalArgumentException("overlay lease TTL must be between 10s and 24h, got " + leaseTtl);
        }
        if (reconcileInterval.toMillis() < 1000) {
            throw new IllegalArgumentException("overlay reconcile interval must be at least 1s, got "
                    + reconcileInterval);
        }
    }

    public static OverlaySettings off() {
        return new OverlaySettings(false, null, DEFAULT_DOCKER_SOCKET, DEFAULT_CNI_SOCKET, 4789, 0,
                Duration.ofSeconds(30), Duration.ofSeconds(30), true);
    }

    public OverlaySettings withEnabled(boolean on) {
        return new OverlaySettings(on, underlay, dockerSocket, cniSocket, vxlanPort, mtu, leaseTtl, reconcileInterval,
                gatewayDns);
    }

    public OverlaySettings withSockets(Path docker, Path cni) {
        return new OverlaySettings(enabled, underlay, docker, cni, vxlanPort, mtu, leaseTtl, reconcileInterval,
                gatewayDns);
    }

    public OverlaySettings withUnderlay(String address, int port, int underlayMtu) {
        return new OverlaySettings(enabled, address, dockerSocket, cniSocket, port, underlayMtu, leaseTtl,
                reconcileInterval, gatewayDns);
    }

    public OverlaySettings withTimers(Duration ttl, Duration interval) {
        return new OverlaySettings(enabled, underlay, dockerSocket, cniSocket, vxlanPort, mtu, ttl, interval,
                gatewayDns);
    }

    public OverlaySettings withGatewayDns(boolean on) {
        return new OverlaySettings(enabled, underlay, dockerSocket, cniSocket, vxlanPort, mtu, leaseTtl,
                reconcileInterval, on);
    }
}
