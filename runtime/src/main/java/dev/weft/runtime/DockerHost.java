package dev.weft.runtime;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the engine listens: {@code unix:///path/docker.sock} or {@code tcp://host:port} (plain HTTP, no TLS).
 * Resolution order: the explicit value, then {@code $DOCKER_HOST}, then {@code unix:///var/run/docker.sock}.
 */
record DockerHost(String uri, SocketAddress address, String hostHeader) {
    static final String DEFAULT = "unix:///var/run/docker.sock";

    static DockerHost resolve(String explicit, Map<String, String> env) {
        if (explicit != null && !explicit.isBlank()) {
            return parse(explicit.trim());
        }
        String fromEnv = env.get("DOCKER_HOST");
        return parse(fromEnv != null && !fromEnv.isBlank() ? fromEnv.trim() : DEFAULT);
    }

    static DockerHost parse(String s) {
        if (s.startsWith("/")) {
            s = "unix://" + s;
        }
        if (s.startsWith("unix://")) {
            String path = s.substring("unix://".length());
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("docker host '" + s + "': a unix socket path must be absolute");
            }
            return new DockerHost("unix://" + path, UnixDomainSocketAddress.of(Path.of(path)), "docker");
        }
        if (s.startsWith("tcp://") || s.startsWith("http://")) {
            URI u = URI.create(s);
            if (u.getHost() == null) {
                throw new IllegalArgumentException("docker host '" + s + "': no host");
            }
            int port = u.getPort() < 0 ? 2375 : u.getPort();
            String host = u.getHost();
            String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
            return new DockerHost("tcp://" + host + ":" + port, InetSocketAddress.createUnresolved(bare, port),
                    host + ":" + port);
        }
        throw new IllegalArgumentException("docker host '" + s + "': expected unix:///path or tcp://host:port"
                + " (TLS and ssh:// are not supported)");
    }

    boolean unix() {
        return address instanceof UnixDomainSocketAddress;
    }

    @Override
    public String toString() {
        return uri;
    }
}
