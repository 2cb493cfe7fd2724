package dev.weft.agent;

import dev.weft.agent.http.AgentInfo;
import dev.weft.agent.http.HttpApiServer;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.raft.RaftStore;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * One running agent: the Raft member ({@link RaftStore}) and the HTTP API in front of it, sharing one Prometheus
 * registry. {@link #close()} stops the HTTP API first, then the Raft member.
 */
public final class AgentServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentServer.class);
    /** Ratis' shaded gRPC logs through java.util.logging; keep it at warnings (strong reference: JUL is weak). */
    private static final java.util.logging.Logger GRPC_JUL =
            java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");

    static {
        GRPC_JUL.setLevel(java.util.logging.Level.WARNING);
    }

    private final AgentConfig config;
    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics;
    private final RaftStore store;
    private final HttpApiServer http;
    private final AgentInfo info;

    private AgentServer(AgentConfig config, PrometheusMeterRegistry registry, JvmGcMetrics gcMetrics,
                        RaftStore store, HttpApiServer http, AgentInfo info) {
        this.config = config;
        this.registry = registry;
        this.gcMetrics = gcMetrics;
        this.store = store;
        this.http = http;
        this.info = info;
    }

    /**
     * Starts the Raft member (recovering or joining as configured) and then the HTTP API.
     *
     * @throws InterruptedException when interrupted while binding the HTTP port
     */
    public static AgentServer start(AgentConfig config) throws InterruptedException {
        if (!config.server()) {
            throw new IllegalArgumentException("client agents are not supported yet; run with -server");
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("node", config.nodeName(), "dc", config.datacenter());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        RaftStore store = null;
        try {
            store = RaftStore.start(config.raftConfig(), registry);
            String[] hostPort = splitAddress(store.address());
            AgentInfo info = new AgentInfo(config.nodeName(), config.datacenter(), true, Version.version(),
                    Version.revision(), hostPort[0], Integer.parseInt(hostPort[1]));
            HttpApiServer http = HttpApiServer.start(store, info, registry, config.clientAddr(), config.httpPort());
            log.info("agent {} started: HTTP {}:{}, Raft {}", config.nodeName(), http.address().getHostString(),
                    http.port(), store.address());
            return new AgentServer(config, registry, gc, store, http, info);
        } catch (InterruptedException | RuntimeException e) {
            if (store != null) {
                store.close();
            }
            gc.close();
            registry.close();
            throw e;
        }
    }

    private static String[] splitAddress(String address) {
        int colon = address.lastIndexOf(':');
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new String[] {host, address.substring(colon + 1)};
    }

    public AgentConfig config() {
        return config;
    }

    public AgentInfo info() {
        return info;
    }

    public ReplicatedStore store() {
        return store;
    }

    public RaftStatus status() {
        return store.status();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public InetSocketAddress httpAddress() {
        return http.address();
    }

    /** host:port of the HTTP API, as the CLI's -http-addr takes it. */
    public String httpAddr() {
        InetSocketAddress a = http.address();
        return a.getHostString() + ":" + a.getPort();
    }

    /** This member's Raft address (host:port). */
    public String raftAddress() {
        return store.address();
    }

    @Override
    public void close() {
        try {
            http.close();
        } finally {
            try {
                store.close();
            } finally {
                gcMetrics.close();
                registry.close();
            }
        }
    }
}
