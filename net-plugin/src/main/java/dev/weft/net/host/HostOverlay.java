package dev.weft.net.host;

import dev.weft.net.control.ControlSettings;
import dev.weft.net.control.ControlView;
import dev.weft.net.control.EndpointIpam;
import dev.weft.net.control.LeaseKeeper;
import dev.weft.net.control.NetworkRegistry;
import dev.weft.net.dataplane.DataPlane;
import dev.weft.net.dataplane.UnderlaySettings;

import java.util.Objects;

/**
 * The overlay's parts on one host that the Docker driver drives: the control plane (registry, this host's
 * lease keeper — started —, endpoint IPAM, view) and the data plane of the host's namespace.
 */
public record HostOverlay(NetworkRegistry registry, LeaseKeeper keeper, EndpointIpam ipam, ControlView view,
                          ControlSettings settings, DataPlane dataPlane, UnderlaySettings underlay) {
    public HostOverlay {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(keeper, "keeper");
        Objects.requireNonNull(ipam, "ipam");
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(dataPlane, "dataPlane");
        Objects.requireNonNull(underlay, "underlay");
    }
}
