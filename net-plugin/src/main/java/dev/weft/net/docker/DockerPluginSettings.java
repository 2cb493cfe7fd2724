package dev.weft.net.docker;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the Docker driver listens and keeps its state.
 *
 * @param socket         the plugin socket Docker discovers ({@value #DEFAULT_SOCKET} by default: plugin name
 *                       {@code weft}); created with mode 0600, a stale file is removed at start
 * @param networkIdsFile Docker network ID → weft network name of this host (for networks created on another
 *                       host first, whose Docker IDs differ), kept across restarts
 */
public record DockerPluginSettings(Path socket, Path networkIdsFile) {
    public static final String DEFAULT_SOCKET = "/run/docker/plugins/weft.sock";
    public static final String NETWORK_IDS_FILE = "docker-networks.json";

    public DockerPluginSettings {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(networkIdsFile, "networkIdsFile");
    }

    /** The default socket, the ID file in the agent's data directory. */
    public static DockerPluginSettings defaults(Path dataDir) {
        return new DockerPluginSettings(Path.of(DEFAULT_SOCKET), dataDir.resolve(NETWORK_IDS_FILE));
    }

    public DockerPluginSettings withSocket(Path path) {
        return new DockerPluginSettings(path, networkIdsFile);
    }
}
