package dev.weft.net.docker;

import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.UnixHttpServer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * Docker's remote network and IPAM driver ("weft") on a unix domain socket: HTTP/1.1, every call a POST with a
 * JSON body, answered with {@value #CONTENT_TYPE}. Served by a {@link UnixHttpServer} (one epoll event loop, a
 * small worker pool: the control plane and the kernel block); {@link DockerRemoteApi} does the work.
 *
 * <p>{@link #start} removes a stale socket file, binds, and makes the socket mode 0600 (owned by the agent's
 * user, root). {@link #close} stops listening, finishes the calls in progress and removes the socket file.
 */
public final class DockerPluginServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DockerPluginServer.class);
    public static final String CONTENT_TYPE = "application/vnd.docker.plugins.v1.2+json";
    private static final int WORKERS = 4;

    private final UnixHttpServer server;
    private final DockerRemoteApi api;

    private DockerPluginServer(UnixHttpServer server, DockerRemoteApi api) {
        this.server = server;
        this.api = api;
    }

    /** Serves the driver for {@code host} on {@code settings.socket()}. */
    public static DockerPluginServer start(DockerPluginSettings settings, HostNetworks host) {
        DockerRemoteApi api = new DockerRemoteApi(host, settings);
        UnixHttpServer server = UnixHttpServer.start("docker", settings.socket(), CONTENT_TYPE, WORKERS,
                new UnixHttpServer.Handler() {
                    @Override
                    public UnixHttpServer.Reply handle(String path, byte[] body) {
                        return reply(api.handle(path, body));
                    }

                    @Override
                    public UnixHttpServer.Reply error(int status, String message) {
                        return reply(DockerRemoteApi.error(status, "the weft driver: " + message));
                    }
                });
        LOG.info("docker: network and IPAM driver 'weft' listening on {}", settings.socket());
        return new DockerPluginServer(server, api);
    }

    private static UnixHttpServer.Reply reply(DockerRemoteApi.Answer answer) {
        return new UnixHttpServer.Reply(answer.status(), answer.bytes());
    }

    public Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        server.close();
        api.close();
    }
}
