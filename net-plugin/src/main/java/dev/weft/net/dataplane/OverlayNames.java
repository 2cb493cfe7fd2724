package dev.weft.net.dataplane;

import dev.weft.net.model.Endpoint;
import dev.weft.net.model.Network;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Device names of the overlay, all at most 15 bytes (Linux' limit): {@code wfb<vni>} (bridge),
 * {@code wfv<vni>} (VXLAN device), {@code wfe<8 hex>} (host end of an endpoint's veth pair) and
 * {@code wfc<8 hex>} (its container end until it is renamed inside the container).
 */
public final class OverlayNames {
    private OverlayNames() {
    }

    public static String bridge(Network network) {
        return "wfb" + network.vni();
    }

    public static String vxlan(Network network) {
        return "wfv" + network.vni();
    }

    /** The host end of the endpoint's veth pair: {@code wfe} + 8 hex digits of SHA-256(endpoint ID). */
    public static String hostVeth(Endpoint endpoint) {
        return "wfe" + hash(endpoint.id());
    }

    /** The container end's name while it is still in the host namespace. */
    static String containerVethTemporary(Endpoint endpoint) {
        return "wfc" + hash(endpoint.id());
    }

    private static String hash(String id) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
