package dev.weft.kvstore.raft;

import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

import java.util.Objects;

/**
 * A Raft member's address, {@code host:port} ({@code [v6]:port} for IPv6 literals), and the peer ID derived from
 * it: {@code host-port}. A member's identity is its address, so restarting on the same address keeps it.
 */
record RaftAddress(String host, int port) {

    RaftAddress {
        Objects.requireNonNull(host);
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty Raft host");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("Raft port out of range: " + port);
        }
    }

    /** Parses {@code host:port} or {@code [v6]:port}; throws {@link IllegalArgumentException} when malformed. */
    static RaftAddress parse(String s) {
        String t = s == null ? "" : s.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("Raft address must be host:port, got '" + s + "'");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("IPv6 Raft address must be [addr]:port, got '" + s + "'");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in Raft address '" + s + "'", e);
        }
        return new RaftAddress(host, port);
    }

    static String format(String host, int port) {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    RaftPeerId peerId() {
        return RaftPeerId.valueOf(host.replace(':', '_') + "-" + port);
    }

    RaftPeer peer() {
        return RaftPeer.newBuilder().setId(peerId()).setAddress(toString()).build();
    }

    @Override
    public String toString() {
        return format(host, port);
    }
}
