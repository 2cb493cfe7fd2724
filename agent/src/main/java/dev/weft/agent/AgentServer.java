package dev.weft.agent;

import dev.weft.agent.catalog.LocalAgentState;
import dev.weft.agent.catalog.LocalServiceSink;
import dev.weft.agent.catalog.NodeHealthDuty;
import dev.weft.agent.http.AgentInfo;
import dev.weft.dns.CatalogReader;
import dev.weft.dns.DnsConfig;
import dev.weft.dns.DnsServer;
import dev.weft.agent.http.HttpApiServer;
import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.registrator.Registrator;
import dev.weft.registrator.RegistratorConfig;
import dev.weft.runtime.DockerClient;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogView;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

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
    private final LocalAgentState local;
    private final DnsServer dns;
    private final ContainerWatch containers;

    /** The registrator and its Docker client, when running. */
    private record ContainerWatch(DockerClient client, Registrator registrator) implements AutoCloseable {
        @Override
        public void close() {
            try {
                registrator.close();
            } finally {
                client.close();
            }
        }
    }
    private final AtomicBoolean closed = new AtomicBoolean();

    private AgentServer(AgentConfig config, PrometheusMeterRegistry registry, JvmGcMetrics gcMetrics,
                        RaftStore store, HttpApiServer http, AgentInfo info, LocalAgentState local, DnsServer dns,
                        ContainerWatch containers) {
        this.containers = containers;
        this.local = local;
        this.dns = dns;
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
        LocalAgentState local = null;
        DnsServer dns = null;
        ContainerWatch containers = null;
        try {
            store = RaftStore.start(config.raftConfig(), registry);
            String[] hostPort = splitAddress(store.address());
            AgentInfo info = new AgentInfo(config.nodeName(), config.datacenter(), true, Version.version(),
                    Version.revision(), hostPort[0], Integer.parseInt(hostPort[1]));
            DiscoveryConfig d = config.discovery();
            // The catalog and DNS need an IP: a -bind host name is resolved once, at start.
            String addr = ipOf(hostPort[0]);
            CatalogNode self = new CatalogNode(config.nodeName(), nodeId(config.dataDir()), addr,
                    Map.of("lan", addr, "lan_ipv4", addr, "wan", addr, "wan_ipv4", addr), Map.of(), 0, 0);
            local = new LocalAgentState(self, store, new LocalAgentState.Settings(d.checkUpdateInterval(),
                    d.antiEntropyInterval(), d.heartbeatInterval(), config.requestTimeout().plusSeconds(1)),
                    config.dataDir(), registry);
            store.addLeaderDuty(new NodeHealthDuty(d.nodeHealthTimeout()));
            if (d.dnsPort() >= 0) {
                RaftStore s = store;
                dns = DnsServer.start(dnsConfig(config, addr), new CatalogReader() {
                    @Override
                    public <T> T read(Function<CatalogView, T> reader) {
                        return s.read(v -> reader.apply(v.catalog()));
                    }

                    @Override
                    public long catalogIndex() {
                        return s.catalogIndex();
                    }
                }, registry);
            }
            HttpApiServer http = HttpApiServer.start(store, info, registry, config.clientAddr(), config.httpPort(),
                    local);
            local.start();
            containers = startRegistrator(config, addr, local, registry);
            log.info("agent {} started: HTTP {}:{}, DNS {}, Raft {}", config.nodeName(),
                    http.address().getHostString(), http.port(), dns == null ? "off"
                            : dns.udpAddress().getHostString() + ":" + dns.udpAddress().getPort(),
                    store.address());
            return new AgentServer(config, registry, gc, store, http, info, local, dns, containers);
        } catch (InterruptedException | RuntimeException e) {
            if (containers != null) {
                containers.close();
            }
            if (dns != null) {
                dns.close();
            }
            if (local != null) {
                local.close();
            }
            if (store != null) {
                store.close();
            }
            gc.close();
            registry.close();
            throw e;
        }
    }

    /**
     * Starts the registrator when it is on and Docker is configured ({@code -docker-host}, {@code DOCKER_HOST})
     * or its default socket exists. Docker being down is not an error: the registrator keeps reconnecting.
     */
    private static ContainerWatch startRegistrator(AgentConfig config, String advertise, LocalAgentState local,
                                                   PrometheusMeterRegistry registry) {
        RegistratorSettings rs = config.discovery().registrator();
        if (!rs.enabled()) {
            return null;
        }
        String host = rs.dockerHost();
        if (host == null || host.isBlank()) {
            host = System.getenv("DOCKER_HOST");
        }
        if ((host == null || host.isBlank()) && !Files.exists(Path.of("/var/run/docker.sock"))) {
            log.info("registrator off: no Docker at unix:///var/run/docker.sock (set -docker-host or DOCKER_HOST)");
            return null;
        }
        RegistratorConfig cfg = RegistratorConfig.builder(config.nodeName(), advertise)
                .forcedIp(rs.forcedIp())
                .internal(rs.internal())
                .explicit(rs.explicit())
                .resync(rs.resync())
                .deregister(RegistratorConfig.Deregister.parse(rs.deregister()))
                .build();
        DockerClient client = DockerClient.connect(host);
        Registrator registrator = new Registrator(client, new LocalServiceSink(local), cfg, registry);
        registrator.start();
        log.info("registrator on: Docker at {}", host == null || host.isBlank() ? "unix:///var/run/docker.sock"
                : host);
        return new ContainerWatch(client, registrator);
    }

    private static DnsConfig dnsConfig(AgentConfig config, String advertise) {
        DiscoveryConfig d = config.discovery();
        try {
            DnsConfig.Builder b = DnsConfig.builder()
                    .bindAddress(InetAddress.getByName(d.dnsAddr()))
                    .advertiseAddress(InetAddress.getByName(advertise))
                    .port(d.dnsPort())
                    .domain(d.domain())
                    .datacenter(config.datacenter())
                    .onlyPassing(d.dnsOnlyPassing())
                    .nodeTtl(d.dnsNodeTtl())
                    .serviceTtl(d.dnsServiceTtl());
            if (d.altDomain() != null) {
                b.altDomain(d.altDomain());
            }
            for (String r : d.recursors()) {
                b.addRecursor(DnsConfig.parseRecursor(r));
            }
            return b.build();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("DNS address must be an IP address: " + e.getMessage());
        }
    }

    /** This agent's node ID: a random UUID made once and kept in the data dir, as Consul's node-id file. */
    static String nodeId(Path dataDir) {
        Path file = dataDir.resolve("node-id");
        try {
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).strip();
                UUID.fromString(id);
                return id;
            }
            String id = UUID.randomUUID().toString();
            Files.createDirectories(dataDir);
            Files.writeString(file, id + "\n", StandardCharsets.UTF_8);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("corrupt node ID in " + file + ": " + e.getMessage());
        }
    }

    private static String ipOf(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve the -bind host " + host + ": " + e.getMessage(), e);
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

    /** This agent's own services and checks. */
    public LocalAgentState local() {
        return local;
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

    /** The DNS server (to add listeners, e.g. :53 on an overlay gateway), or null when DNS is off. */
    public DnsServer dns() {
        return dns;
    }

    /** The DNS server's UDP address, or null when DNS is off ({@code -dns-port -1}). */
    public InetSocketAddress dnsAddress() {
        return dns == null ? null : dns.udpAddress();
    }

    /** This member's Raft address (host:port). */
    public String raftAddress() {
        return store.address();
    }

    @Override
    public void close() {
        close(true);
    }

    /**
     * Stops the agent. With {@code leave}, the node is first marked as having left (services leave answers at
     * once); without it, the catalog learns of the stop only through the node-health timeout, as after a crash.
     */
    public void close(boolean leave) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (containers != null) {
                containers.close();
            }
            local.close(leave);
            if (dns != null) {
                dns.close();
            }
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
