package dev.weft.net.cni;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where the CNI server listens and what DNS its results carry.
 *
 * @param socket        the socket the {@code weft-cni} executable calls ({@value #DEFAULT_SOCKET} by default);
 *                      created with mode 0600, a stale file is removed at start
 * @param nameservers   the result's {@code dns.nameservers}; {@value #GATEWAY} stands for this host's gateway in the
 *                      network (where the agent's DNS listens); may be empty
 * @param searchDomains the result's {@code dns.search}; may be empty
 */
public record CniSettings(Path socket, List<String> nameservers, List<String> searchDomains) {
    public static final String DEFAULT_SOCKET = "/run/weft/cni.sock";
    public static final String GATEWAY = "gateway";

    public CniSettings {
        Objects.requireNonNull(socket, "socket");
        nameservers = List.copyOf(nameservers);
        searchDomains = List.copyOf(searchDomains);
    }

    /** The default socket, no DNS in results. */
    public static CniSettings defaults() {
        return new CniSettings(Path.of(DEFAULT_SOCKET), List.of(), List.of());
    }

    public CniSettings withSocket(Path path) {
        return new CniSettings(path, nameservers, searchDomains);
    }
}
