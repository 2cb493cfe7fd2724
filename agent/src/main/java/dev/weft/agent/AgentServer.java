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
import dev.weft.kvstore.acl.AclCatalogView;
import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.acl.Authorizer;
import dev.weft.kvstore.acl.AuthorizingStore;
import dev.weft.kvstore.acl.TokenResolver;
import dev.weft.kvstore.feed.ClientStore;
import dev.weft.kvstore.feed.FeedProtocol;
import dev.weft.kvstore.raft.RaftStore;
import dev.weft.kvstore.tls.TlsCredentials;
import dev.weft.kvstore.tls.TlsException;
import dev.weft.kvstore.tls.TlsMaterial;
import dev.weft.kvstore.tls.TlsSettings;
import dev.weft.registrator.Registrator;
import dev.weft.registrator.RegistratorConfig;
import dev.weft.runtime.DockerClient;
import dev.weft.kvstore.state.CatalogNode;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.KvReadView;
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
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One running agent: its store (a Raft member, {@link RaftStore}, on a server; a {@link ClientStore} read view fed
 * by the servers on a client) and the HTTP API, DNS and registrator in front of it, sharing one Prometheus
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
    private final ReplicatedStore store;
    private final HttpApiServer http;
    private final AgentInfo info;
    private final LocalAgentState local;
    private final DnsServer dns;
    private final ContainerWatch containers;
    private final AgentOverlay overlay;
    /** The agent's TLS credentials, or null without TLS. */
    private volatile TlsCredentials tls;

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
    private final List<Runnable> closeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** How long a client agent's feed request waits for new entries: also its heartbeat to the servers. */
    static final Duration CLIENT_FEED_WAIT = Duration.ofSeconds(2);

    private AgentServer(AgentConfig config, PrometheusMeterRegistry registry, JvmGcMetrics gcMetrics,
                        ReplicatedStore store, HttpApiServer http, AgentInfo info, LocalAgentState local, DnsServer dns,
                        ContainerWatch containers, AgentOverlay overlay) {
        this.containers = containers;
        this.overlay = overlay;
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
        return start(config, OverlaySettings.off());
    }

    /**
     * Starts the agent, and the overlay network on this host when {@code overlaySettings} enable it.
     *
     * @throws InterruptedException when interrupted while binding the HTTP port
     */
    public static AgentServer start(AgentConfig config, OverlaySettings overlaySettings) throws InterruptedException {
        return start(config, overlaySettings, AclConfig.DISABLED);
    }

    /**
     * Starts the agent with ACLs as {@code acl} says: the HTTP API enforces them, and the agent's own writers
     * (anti-entropy, registrator, overlay) and a client agent's requests to the servers use the agent token.
     *
     * @throws InterruptedException when interrupted while binding the HTTP port
     */
    public static AgentServer start(AgentConfig config, OverlaySettings overlaySettings, AclConfig acl)
            throws InterruptedException {
        return start(config, overlaySettings, acl, null);
    }

    /**
     * TLS options of an agent.
     *
     * @param settings  the files and verify flags
     * @param httpsPort HTTPS API port; -1 = no HTTPS listener, 0 = ephemeral
     */
    public record TlsOptions(TlsSettings settings, int httpsPort) {
    }

    /**
     * As above, and with TLS when {@code tlsOptions} is not null: Raft over (mutual, with -verify-incoming) TLS on
     * a server when a verify flag is set, a client agent's feed and forwarding over HTTPS with its certificate with
     * -verify-outgoing, and an HTTPS API listener on the HTTPS port.
     *
     * @throws IllegalArgumentException when the TLS files cannot be used
     * @throws InterruptedException     when interrupted while binding the HTTP port
     */
    public static AgentServer start(AgentConfig config, OverlaySettings overlaySettings, AclConfig acl,
                                    TlsOptions tlsOptions)
            throws InterruptedException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("node", config.nodeName(), "dc", config.datacenter());
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        ReplicatedStore store = null;
        LocalAgentState local = null;
        DnsServer dns = null;
        HttpApiServer http = null;
        ContainerWatch containers = null;
        AgentOverlay overlay = null;
        try {
            TlsCredentials tls = null;
            if (tlsOptions != null) {
                try {
                    tls = TlsCredentials.load(tlsOptions.settings(), registry, Clock.systemUTC());
                } catch (TlsException e) {
                    throw new IllegalArgumentException("TLS: " + e.getMessage(), e);
                }
            }
            String advertiseHost;
            int raftPort;
            if (config.server()) {
                RaftStore raft = RaftStore.start(config.raftConfig(), registry, Clock.systemUTC(),
                        tls != null && tls.settings().raftTls() ? tls : null);
                raft.addLeaderDuty(new NodeHealthDuty(config.discovery().nodeHealthTimeout()));
                store = raft;
                String[] hostPort = splitAddress(raft.address());
                advertiseHost = hostPort[0];
                raftPort = Integer.parseInt(hostPort[1]);
            } else {
                store = ClientStore.start(new ClientStore.Settings(config.nodeName(), config.retryJoin(),
                        config.requestTimeout(), CLIENT_FEED_WAIT,
                        tls != null && tls.settings().verifyOutgoing() ? tls.clientContext() : null), registry,
                        acl.agentToken());
                advertiseHost = config.bindAddr();
                raftPort = 0;
            }
            String nodeId = nodeId(config.dataDir());
            AgentInfo info = new AgentInfo(config.nodeName(), config.datacenter(), config.server(),
                    Version.version(), Version.revision(), advertiseHost, raftPort, nodeId);
            DiscoveryConfig d = config.discovery();
            // The catalog and DNS need an IP: a -bind host name is resolved once, at start.
            String addr = ipOf(advertiseHost);
            CatalogNode self = new CatalogNode(config.nodeName(), nodeId, addr,
                    Map.of("lan", addr, "lan_ipv4", addr, "wan", addr, "wan_ipv4", addr), Map.of(), 0, 0);
            // The agent's own writes act with the agent token when ACLs are on.
            ReplicatedStore own = acl.enabled() ? new AuthorizingStore(store, acl) : store;
            local = new LocalAgentState(self, own, new LocalAgentState.Settings(d.checkUpdateInterval(),
                    d.antiEntropyInterval(), d.heartbeatInterval(), config.requestTimeout().plusSeconds(1)),
                    config.dataDir(), registry);
            if (d.dnsPort() >= 0) {
                ReplicatedStore s = store;
                // With ACLs on, DNS reveals only what the agent token may read (others: NXDOMAIN).
                TokenResolver dnsTokens = new TokenResolver(acl.defaultAllow());
                dns = DnsServer.start(dnsConfig(config, addr), new CatalogReader() {
                    @Override
                    public <T> T read(Function<CatalogView, T> reader) {
                        return s.read(v -> reader.apply(acl.enabled()
                                ? new AclCatalogView(v.catalog(), agentAuthorizer(dnsTokens, v, acl.agentToken()))
                                : v.catalog()));
                    }

                    @Override
                    public long catalogIndex() {
                        // an ACL change can change the answers too
                        return acl.enabled() ? s.read(v -> Math.max(v.catalog().catalogIndex(), v.acl().aclIndex()))
                                : s.catalogIndex();
                    }
                }, registry);
            }
            http = HttpApiServer.start(store, info, registry, config.clientAddr(), config.httpPort(), local, acl,
                    tls == null ? null : new HttpApiServer.Https(tlsOptions.httpsPort(), tls,
                            tls.settings().verifyIncoming()));
            if (config.server()) {
                // Where clients reach this server: its HTTP API, on the advertised address when bound to any.
                String httpHost = isAnyLocal(config.clientAddr()) ? addr : config.clientAddr();
                Map<String, String> meta = new java.util.HashMap<>(Map.of(FeedProtocol.META_RAFT_ADDR,
                        ((RaftStore) store).address(), FeedProtocol.META_HTTP_ADDR, hostPort(httpHost, http.port())));
                if (http.httpsAddress() != null) {
                    meta.put(FeedProtocol.META_HTTPS_ADDR, hostPort(httpHost, http.httpsAddress().getPort()));
                }
                local.publishNodeMeta(meta);
                if (tls != null && tls.settings().verifyIncoming() && http.httpsAddress() == null) {
                    log.warn("-verify-incoming without -https-port: client agents cannot follow this server "
                            + "(its /v1/internal/ is HTTPS only)");
                }
            }
            local.start();
            if (overlaySettings.enabled()) {
                overlay = AgentOverlay.start(overlaySettings, own, config.nodeName(), self.id(), config.dataDir(),
                        addr, dns, registry);
            }
            containers = startRegistrator(config, addr, local, registry);
            log.info("agent {} started as a {}: HTTP {}:{}, DNS {}, {}", config.nodeName(),
                    config.server() ? "server" : "client", http.address().getHostString(), http.port(),
                    dns == null ? "off" : dns.udpAddress().getHostString() + ":" + dns.udpAddress().getPort(),
                    config.server() ? "Raft " + ((RaftStore) store).address()
                            : "servers " + config.retryJoin());
            AgentServer agent = new AgentServer(config, registry, gc, store, http, info, local, dns, containers,
                    overlay);
            agent.tls = tls;
            http.onLeave(agent::leave);
            http.onReload(agent::reload);
            return agent;
        } catch (InterruptedException | RuntimeException e) {
            if (containers != null) {
                containers.close();
            }
            if (overlay != null) {
                overlay.close();
            }
            if (local != null) {
                local.close();
            }
            if (http != null) {
                http.close();
            }
            if (dns != null) {
                dns.close();
            }
            if (store != null) {
                store.close();
            }
            gc.close();
            registry.close();
            throw e;
        }
    }

    private static boolean isAnyLocal(String host) {
        try {
            return InetAddress.getByName(host).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * Starts the registrator when it is on and Docker is configured ({@code -docker-host}, {@code DOCKER_HOST})
     * or its default socket exists. Docker being down is not an error: the registrator keeps reconnecting.
     */
    /** What the agent token may do; nothing beyond the default policy when the token is unknown. */
    private static Authorizer agentAuthorizer(TokenResolver tokens, KvReadView view, String token) {
        try {
            return tokens.resolve(view.acl(), token);
        } catch (TokenResolver.AclNotFoundException e) {
            return tokens.authorizer(view.acl(), null);
        }
    }

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
                .tagsAlways(rs.tags())
                .useIpFromNetwork(rs.useIpFromNetwork())
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
                    .serviceTtl(d.dnsServiceTtl())
                    .rateLimit(d.dnsRateLimit())
                    // A client's JVM runs C1 only (agent/client-jvm.options), where Netty's UDP path costs about
                    // twice the plain sockets' per query; servers keep Netty (docs/PERFORMANCE.md, client agents).
                    .blockingUdp(!config.server());
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
    /** This host's overlay networks, or null when the overlay is off. */
    public dev.weft.net.host.HostNetworks overlayNetworks() {
        return overlay == null ? null : overlay.networks();
    }

    public DnsServer dns() {
        return dns;
    }

    /** The DNS server's UDP address, or null when DNS is off ({@code -dns-port -1}). */
    public InetSocketAddress dnsAddress() {
        return dns == null ? null : dns.udpAddress();
    }

    /** The HTTPS API's address, or null without an HTTPS listener. */
    public InetSocketAddress httpsAddress() {
        return http.httpsAddress();
    }

    /**
     * Consul's reload ({@code SIGHUP}, {@code weft reload}): re-reads the TLS files. New handshakes use the new
     * certificate at once; established connections and Raft leadership are untouched. A file that cannot be
     * used leaves the old material in place.
     *
     * @return a one-line summary
     * @throws TlsException when the new files cannot be used (the old ones stay in use)
     */
    public String reload() throws TlsException {
        TlsCredentials t = tls;
        if (t == null) {
            return "Nothing to reload (no TLS configured)";
        }
        TlsMaterial m = t.reload();
        return "Reloaded TLS: certificate serial " + m.serialHex() + ", expires " + m.notAfter();
    }

    /** This member's Raft address (host:port); empty on a client agent. */
    public String raftAddress() {
        return store instanceof RaftStore r ? r.address() : "";
    }

    @Override
    public void close() {
        close(true);
    }

    /** Runs {@code listener} once the agent has stopped (on the thread that stopped it). */
    public void onClose(Runnable listener) {
        closeListeners.add(listener);
    }

    /**
     * A graceful leave ({@code PUT /v1/agent/leave}, {@code weft leave}): the host leaves its overlay networks at
     * once (devices removed, leases and endpoint addresses released, so other hosts drop their routes now). A
     * server then marks its node as left and removes itself from the Raft configuration, as Consul's leave does,
     * so the other servers no longer count it toward their quorum (the only server stays; a failed removal is
     * logged and the agent still stops). Then the agent stops on another thread, marking its node as left.
     * Only an explicit leave removes a server: a stop by signal ({@link #close()}) keeps it a member, as
     * Consul's {@code leave_on_terminate} does by default for servers, so that a restart rejoins as before.
     */
    public void leave() {
        log.info("agent {}: graceful leave", config.nodeName());
        if (overlay != null) {
            overlay.leave();
        }
        if (store instanceof RaftStore raft) {
            local.close(true);
            try {
                raft.leaveCluster();
            } catch (RuntimeException e) {
                log.warn("agent {}: still a Raft server after leaving: {}; remove it with `weft operator raft "
                        + "remove-peer -id {}`", config.nodeName(), e.getMessage(), raft.selfId());
            }
        }
        Thread t = new Thread(() -> close(true), "weft-leave");
        t.start();
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
            if (overlay != null) {
                overlay.close(); // leases stay until their TTL: a restarted agent keeps its subnets and traffic flows
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
                closeListeners.forEach(Runnable::run);
            }
        }
    }
}
