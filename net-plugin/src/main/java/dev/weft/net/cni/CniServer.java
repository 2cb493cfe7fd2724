package dev.weft.net.cni;

import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.UnixHttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The agent's side of the {@code weft-cni} executable: a {@link UnixHttpServer} on {@link CniSettings#socket()}
 * (default {@value CniSettings#DEFAULT_SOCKET}, mode 0600, a stale file replaced). The executable POSTs one call
 * to {@value #PATH}: the JSON envelope {@code {"command","containerId","netns","ifName","args","path","config"}};
 * the answer is 200 with the result to print (possibly empty) or 500 with the CNI error JSON. {@link CniApi} does
 * the work on 4 worker threads.
 */
public final class CniServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CniServer.class);
    public static final String PATH = "/v1/cni";
    static final String CONTENT_TYPE = "application/json";
    private static final int WORKERS = 4;

    private final UnixHttpServer server;

    private CniServer(UnixHttpServer server) {
        this.server = server;
    }

    /** Serves the CNI commands for {@code networks}' host on {@code settings.socket()}. */
    public static CniServer start(CniSettings settings, HostNetworks networks) {
        CniApi api = new CniApi(networks, settings);
        UnixHttpServer server = UnixHttpServer.start("cni", settings.socket(), CONTENT_TYPE, WORKERS,
                new UnixHttpServer.Handler() {
                    @Override
                    public UnixHttpServer.Reply handle(String path, byte[] body) {
                        if (!PATH.equals(path)) {
                            return error(404, "unknown path " + path + " (calls go to " + PATH + ")");
                        }
                        CniApi.Answer a = api.handle(body);
                        return new UnixHttpServer.Reply(a.ok() ? 200 : 500, a.body());
                    }

                    @Override
                    public UnixHttpServer.Reply error(int status, String message) {
                        return new UnixHttpServer.Reply(status, CniResults.error(CniVersions.LATEST,
                                status == 503 ? CniException.TRY_AGAIN_LATER : CniException.INTERNAL,
                                "weft's CNI server: " + message, "").toString().getBytes(
                                java.nio.charset.StandardCharsets.UTF_8));
                    }
                });
        LOG.info("cni: serving weft-cni on {}", settings.socket());
        return new CniServer(server);
    }

    public Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        server.close();
    }
}
