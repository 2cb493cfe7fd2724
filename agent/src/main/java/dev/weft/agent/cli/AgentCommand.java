package dev.weft.agent.cli;

import dev.weft.agent.AgentConfig;
import dev.weft.agent.AgentServer;
import dev.weft.agent.DiscoveryConfig;
import dev.weft.agent.OverlaySettings;
import dev.weft.agent.RegistratorSettings;
import dev.weft.agent.http.GoDuration;
import dev.weft.agent.Version;
import dev.weft.kvstore.StoreException;
import dev.weft.kvstore.acl.AclConfig;
import dev.weft.kvstore.raft.RaftConfig;
import dev.weft.kvstore.tls.TlsCredentials;
import dev.weft.kvstore.tls.TlsException;
import dev.weft.kvstore.tls.TlsMaterial;
import dev.weft.kvstore.tls.TlsSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code weft agent}: runs an agent until SIGINT/SIGTERM. Flags follow Consul's names. */
@Command(name = "agent", description = "Run a weft agent", mixinStandardHelpOptions = true, sortOptions = false)
public final class AgentCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(AgentCommand.class);

    private final CliIo io;
    @Spec
    CommandSpec spec;

    @Option(names = {"-dev", "--dev"}, description = "One server on 127.0.0.1 with a temporary data dir")
    boolean dev;
    @Option(names = {"-server", "--server"}, description = "Run as a Raft server (without it: a client agent, no vote, no Raft log)")
    boolean server;
    @Option(names = {"-bootstrap-expect", "--bootstrap-expect"}, paramLabel = "N",
            description = "Servers that form the initial cluster (0 = join an existing one)")
    Integer bootstrapExpect;
    @Option(names = {"-retry-join", "--retry-join"}, paramLabel = "HOST:PORT",
            description = "A server: its Raft address (servers) or its HTTP API, port 8500 by default (clients);"
                    + " repeatable")
    List<String> retryJoin = new ArrayList<>();
    @Option(names = {"-node", "--node"}, paramLabel = "NAME", description = "Node name (default: host name)")
    String node;
    @Option(names = {"-bind", "--bind"}, paramLabel = "IP",
            description = "Raft bind and advertise address (an IP, or a host name resolved by every member)")
    String bind;
    @Option(names = {"-client", "--client"}, paramLabel = "IP", description = "HTTP API bind address")
    String client;
    @Option(names = {"-data-dir", "--data-dir"}, paramLabel = "DIR", description = "Raft log and snapshots")
    Path dataDir;
    @Option(names = {"-http-port", "--http-port"}, paramLabel = "PORT", description = "HTTP API port (8500)")
    Integer httpPort;
    @Option(names = {"-raft-port", "--raft-port"}, paramLabel = "PORT", description = "Raft port (8300)")
    Integer raftPort;
    @Option(names = {"-datacenter", "--datacenter"}, paramLabel = "DC", description = "Datacenter (dc1)")
    String datacenter;
    @Option(names = {"-snapshot-threshold", "--snapshot-threshold"}, paramLabel = "N",
            description = "Raft snapshot every N applied entries (" + RaftConfig.DEFAULT_SNAPSHOT_EVERY + ")")
    Long snapshotThreshold;
    @Option(names = {"-raft-log-segment-size", "--raft-log-segment-size"}, paramLabel = "BYTES",
            description = "Close a Raft log segment at this size; only closed segments are purged after a snapshot"
                    + " (8388608, at least 65536)")
    Long logSegmentBytes;

    @Option(names = {"-check-update-interval", "--check-update-interval"}, paramLabel = "DURATION",
            description = "Write a check whose output alone changed at most this often (5m)")
    String checkUpdateInterval;
    @Option(names = {"-node-health-timeout", "--node-health-timeout"}, paramLabel = "DURATION",
            description = "Mark an agent critical when not heard from this long (10s)")
    String nodeHealthTimeout;
    @Option(names = {"-dns-port", "--dns-port"}, paramLabel = "PORT",
            description = "DNS port, UDP and TCP (8600; -1 disables DNS)")
    Integer dnsPort;
    @Option(names = {"-dns-addr", "--dns-addr"}, paramLabel = "IP",
            description = "DNS bind address (the -client address)")
    String dnsAddr;
    @Option(names = {"-domain", "--domain"}, paramLabel = "DOMAIN", description = "DNS domain (weft.)")
    String domain;
    @Option(names = {"-alt-domain", "--alt-domain"}, paramLabel = "DOMAIN",
            description = "Alternate DNS domain answered the same way (e.g. consul.)")
    String altDomain;
    @Option(names = {"-recursor", "--recursor"}, paramLabel = "IP[:PORT]",
            description = "Upstream resolver for other names (repeatable; none: other names are REFUSED)")
    List<String> recursors = new ArrayList<>();
    @Option(names = {"-dns-rate-limit", "--dns-rate-limit"}, paramLabel = "QPS",
            description = "DNS answers per second to one client IP address; over it UDP queries are dropped and"
                    + " TCP queries answered REFUSED (0: no limit, the default)")
    Double dnsRateLimit;
    @Option(names = {"-dns-only-passing", "--dns-only-passing"},
            description = "DNS answers only passing instances (default: everything but critical)")
    boolean dnsOnlyPassing;
    @Option(names = {"-dns-node-ttl", "--dns-node-ttl"}, paramLabel = "DURATION",
            description = "TTL of node records (0s)")
    String dnsNodeTtl;
    @Option(names = {"-dns-service-ttl", "--dns-service-ttl"}, paramLabel = "NAME=DURATION",
            description = "TTL of a service's records; NAME may be * or end in * (repeatable; 0s)")
    List<String> dnsServiceTtl = new ArrayList<>();

    @Option(names = {"-registrator", "--registrator"}, arity = "0..1", paramLabel = "true|false",
            fallbackValue = "true", description = "Register running containers' services (default true: "
            + "when Docker answers)")
    Boolean registrator;
    @Option(names = {"-docker-host", "--docker-host"}, paramLabel = "unix://PATH|tcp://HOST:PORT",
            description = "Docker Engine API (default $DOCKER_HOST, else unix:///var/run/docker.sock)")
    String dockerHost;
    @Option(names = {"-registrator-ip", "--registrator-ip"}, paramLabel = "IP",
            description = "Address registered for published ports (default: this agent's address)")
    String registratorIp;
    @Option(names = {"-internal", "--internal"}, description = "Register exposed ports on the container's address")
    boolean internal;
    @Option(names = {"-tags", "--tags"}, paramLabel = "TAG,...", split = ",",
            description = "Tags the registrator adds to every service (Registrator's -tags)")
    List<String> registratorTags = new ArrayList<>();
    @Option(names = {"-use-ip-from-network", "--use-ip-from-network"}, paramLabel = "NETWORK",
            description = "Register containers on this Docker network with their address on it "
                    + "(Registrator's -useIpFromNetwork)")
    String useIpFromNetwork;
    @Option(names = {"-explicit", "--explicit"}, description = "Only containers with a SERVICE_NAME")
    boolean explicit;
    @Option(names = {"-resync", "--resync"}, paramLabel = "DURATION",
            description = "Full reconciliation of containers and catalog every DURATION (60s)")
    String resync;
    @Option(names = {"-deregister", "--deregister"}, paramLabel = "always|on-success",
            description = "Deregister on every container exit, or only on exit code 0 (always)")
    String deregister;

    @Option(names = {"-overlay", "--overlay"}, description = "Run the overlay network on this host (root): VXLAN "
            + "networks shared by all hosts, a Docker network/IPAM driver and the socket weft-cni calls")
    boolean overlay;
    @Option(names = {"-overlay-underlay", "--overlay-underlay"}, paramLabel = "IP",
            description = "Address other hosts send this host's VXLAN packets to (default: the -bind address)")
    String overlayUnderlay;
    @Option(names = {"-overlay-underlay-mtu", "--overlay-underlay-mtu"}, paramLabel = "BYTES",
            description = "Underlay MTU (default: the underlay device's); containers get 50 less")
    Integer overlayMtu;
    @Option(names = {"-overlay-vxlan-port", "--overlay-vxlan-port"}, paramLabel = "PORT",
            description = "VXLAN UDP port (4789)")
    Integer overlayVxlanPort;
    @Option(names = {"-overlay-docker-socket", "--overlay-docker-socket"}, paramLabel = "PATH|none",
            description = "Docker network + IPAM driver socket (" + "/run/docker/plugins/weft.sock)")
    String overlayDockerSocket;
    @Option(names = {"-overlay-cni-socket", "--overlay-cni-socket"}, paramLabel = "PATH|none",
            description = "Socket weft-cni calls (/run/weft/cni.sock)")
    String overlayCniSocket;
    @Option(names = {"-overlay-lease-ttl", "--overlay-lease-ttl"}, paramLabel = "DURATION",
            description = "How long a dead host keeps its subnets (30s, at least 10s)")
    String overlayLeaseTtl;
    @Option(names = {"-overlay-reconcile-interval", "--overlay-reconcile-interval"}, paramLabel = "DURATION",
            description = "Full kernel reconciliation every DURATION (30s)")
    String overlayReconcileInterval;
    @Option(names = {"-overlay-gateway-dns", "--overlay-gateway-dns"}, arity = "0..1", paramLabel = "true|false",
            fallbackValue = "true", description = "DNS also answers on each gateway address, port 53 (true)")
    Boolean overlayGatewayDns;
    @Option(names = {"-acl-enabled", "--acl-enabled"}, description = "Enforce ACLs (off by default, and in -dev)")
    boolean aclEnabled;
    @Option(names = {"-acl-default-policy", "--acl-default-policy"}, paramLabel = "allow|deny",
            description = "What a token may do where no rule says (allow; production: deny)")
    String aclDefaultPolicy;
    @Option(names = {"-acl-agent-token", "--acl-agent-token"}, paramLabel = "SECRET",
            description = "Token of the agent's own writes, its requests to servers and what DNS may reveal")
    String aclAgentToken;

    @Option(names = {"-ca-file", "--ca-file"}, paramLabel = "FILE",
            description = "PEM CA certificate(s) peers' certificates must chain to")
    Path caFile;
    @Option(names = {"-cert-file", "--cert-file"}, paramLabel = "FILE", description = "PEM certificate of this agent")
    Path certFile;
    @Option(names = {"-key-file", "--key-file"}, paramLabel = "FILE",
            description = "PEM private key of this agent (PKCS#8, or EC PRIVATE KEY)")
    Path keyFile;
    @Option(names = {"-verify-incoming", "--verify-incoming"},
            description = "Require a certificate signed by the CA from every peer (Raft, HTTPS, client agents)")
    boolean verifyIncoming;
    @Option(names = {"-verify-outgoing", "--verify-outgoing"},
            description = "Use TLS with this agent's certificate for connections to servers (Raft, client feed)")
    boolean verifyOutgoing;
    @Option(names = {"-https-port", "--https-port"}, paramLabel = "PORT",
            description = "HTTPS API port (off unless set; needs -cert-file, -key-file, -ca-file)")
    Integer httpsPort;

    public AgentCommand(CliIo io) {
        this.io = io;
    }

    @Override
    public Integer call() throws Exception {
        AclConfig acl = aclConfig();
        AgentServer.TlsOptions tls = tlsOptions();
        AgentConfig cfg = config();
        OverlaySettings overlaySettings = overlaySettings();
        Path tempDir = dev ? cfg.dataDir() : null;
        AgentServer agent;
        try {
            agent = AgentServer.start(cfg, overlaySettings, acl, tls);
        } catch (StoreException | IllegalArgumentException e) {
            deleteQuietly(tempDir);
            throw new CliFailure("Error starting agent: " + e.getMessage());
        }
        banner(agent, tempDir != null);
        onSighup(() -> {
            try {
                String result = agent.reload(); // a reload logs its one line itself
                if (!result.startsWith("Reloaded")) {
                    log.info("caught SIGHUP: {}", result);
                }
            } catch (TlsException e) {
                // logged by the reload, with the serial that stays in use
            }
        });
        CountDownLatch stopped = new CountDownLatch(1);
        agent.onClose(() -> {
            deleteQuietly(tempDir);
            stopped.countDown(); // a graceful leave (weft leave) stopped it: exit 0
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("caught shutdown signal, leaving gracefully");
            try {
                agent.close();
            } finally {
                deleteQuietly(tempDir);
                stopped.countDown();
            }
        }, "weft-shutdown"));
        stopped.await();
        return 0;
    }

    AgentConfig config() throws IOException {
        String name = node != null ? node : hostName();
        Path dir = dataDir;
        if (dev) {
            if (dir == null) {
                dir = Files.createTempDirectory("weft-dev-");
            }
        } else {
            if (!server) {
                if (retryJoin.isEmpty()) {
                    throw new ParameterException(spec.commandLine(), "A client agent needs -retry-join HOST[:PORT]"
                            + " naming a server's HTTP API (or add -server to run a server)");
                }
                if (bootstrapExpect != null) {
                    throw new ParameterException(spec.commandLine(),
                            "-bootstrap-expect is for servers only (add -server)");
                }
                List<String> https = new ArrayList<>();
                for (String j : retryJoin) {
                    https.add(httpAddress(j));
                }
                retryJoin = https;
            }
            if (dir == null) {
                throw new ParameterException(spec.commandLine(), "Must specify -data-dir (or use -dev)");
            }
        }
        AgentConfig cfg = AgentConfig.defaults(name, dir).withDev(dev).withServer(dev || server);
        int expect = !(dev || server) ? 0 : bootstrapExpect != null ? bootstrapExpect : dev ? 1
                : retryJoin.isEmpty() ? 1 : 0;
        cfg = cfg.withCluster(expect, retryJoin);
        if (datacenter != null) {
            cfg = cfg.withDatacenter(datacenter);
        }
        cfg = cfg.withAddresses(bind != null ? bind : AgentConfig.LOOPBACK, client != null ? client
                : AgentConfig.LOOPBACK);
        cfg = cfg.withPorts(httpPort != null ? httpPort : AgentConfig.DEFAULT_HTTP_PORT,
                raftPort != null ? raftPort : AgentConfig.DEFAULT_RAFT_PORT);
        if (snapshotThreshold != null) {
            cfg = cfg.withSnapshotThreshold(snapshotThreshold);
        }
        if (logSegmentBytes != null) {
            if (logSegmentBytes < AgentConfig.MIN_LOG_SEGMENT_BYTES) {
                throw new ParameterException(spec.commandLine(), "-raft-log-segment-size must be at least "
                        + AgentConfig.MIN_LOG_SEGMENT_BYTES + " bytes, got " + logSegmentBytes);
            }
            cfg = cfg.withLogSegmentBytes(logSegmentBytes);
        }
        return cfg.withDiscovery(discovery(cfg.clientAddr()));
    }

    AclConfig aclConfig() {
        if (!aclEnabled) {
            if (aclDefaultPolicy != null || aclAgentToken != null) {
                throw new ParameterException(spec.commandLine(),
                        "-acl-default-policy and -acl-agent-token need -acl-enabled");
            }
            return AclConfig.DISABLED;
        }
        boolean allow;
        try {
            allow = AclConfig.parseDefaultPolicy(aclDefaultPolicy == null ? "allow" : aclDefaultPolicy);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        return new AclConfig(true, allow, aclAgentToken);
    }

    /**
     * The TLS flags, checked (files readable, key matching, signed by the CA) before anything is made on disk;
     * null when none is given.
     */
    AgentServer.TlsOptions tlsOptions() {
        String dc = datacenter != null ? datacenter : AgentConfig.DEFAULT_DATACENTER;
        boolean isServer = dev || server;
        boolean any = caFile != null || certFile != null || keyFile != null || verifyIncoming || verifyOutgoing
                || httpsPort != null;
        if (!any) {
            return null;
        }
        List<String> missing = new ArrayList<>();
        if (caFile == null) {
            missing.add("-ca-file");
        }
        if (certFile == null) {
            missing.add("-cert-file");
        }
        if (keyFile == null) {
            missing.add("-key-file");
        }
        if (!missing.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "TLS needs -ca-file, -cert-file and -key-file; missing "
                    + String.join(", ", missing));
        }
        if (httpsPort != null && (httpsPort < 0 || httpsPort > 65535)) {
            throw new ParameterException(spec.commandLine(), "-https-port out of range: " + httpsPort);
        }
        TlsSettings settings = new TlsSettings(caFile, certFile, keyFile, verifyIncoming, verifyOutgoing,
                TlsSettings.serverName(dc, domain != null ? domain : DiscoveryConfig.DEFAULT_DOMAIN));
        try {
            TlsMaterial m = TlsMaterial.load(settings, Instant.now());
            if (isServer && (verifyIncoming || verifyOutgoing)
                    && !TlsCredentials.hasDnsName(m.certificate(), settings.serverName())) {
                throw new ParameterException(spec.commandLine(), "TLS: a server needs a server certificate: "
                        + certFile + " has no DNS name " + settings.serverName()
                        + " (create one with: weft tls cert create -server -dc " + dc + ")");
            }
        } catch (TlsException e) {
            throw new ParameterException(spec.commandLine(), "TLS: " + e.getMessage());
        }
        if (!isServer && verifyOutgoing) {
            log.info("client agent: following the servers over HTTPS; -retry-join must name their HTTPS ports");
        }
        return new AgentServer.TlsOptions(settings, httpsPort == null ? -1 : httpsPort);
    }

    /**
     * Runs {@code action} on every SIGHUP (through {@code sun.misc.Signal}, looked up reflectively: it is not part
     * of the compile-time API of {@code --release}). Logs and carries on where signals are not available.
     */
    private static void onSighup(Runnable action) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object handler = java.lang.reflect.Proxy.newProxyInstance(handlerType.getClassLoader(),
                    new Class<?>[] {handlerType}, (proxy, method, args) -> {
                        switch (method.getName()) {
                            case "handle" -> action.run();
                            case "hashCode" -> {
                                return System.identityHashCode(proxy);
                            }
                            case "equals" -> {
                                return proxy == args[0];
                            }
                            case "toString" -> {
                                return "weft SIGHUP handler";
                            }
                            default -> {
                                return null;
                            }
                        }
                        return null;
                    });
            signal.getMethod("handle", signal, handlerType)
                    .invoke(null, signal.getConstructor(String.class).newInstance("HUP"), handler);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("SIGHUP reload not available ({}); use weft reload", e.toString());
        }
    }

    OverlaySettings overlaySettings() {
        OverlaySettings o = OverlaySettings.off();
        boolean any = overlayUnderlay != null || overlayMtu != null || overlayVxlanPort != null
                || overlayDockerSocket != null || overlayCniSocket != null || overlayLeaseTtl != null
                || overlayReconcileInterval != null || overlayGatewayDns != null;
        if (!overlay) {
            if (any) {
                throw new ParameterException(spec.commandLine(), "-overlay-* flags need -overlay");
            }
            return o;
        }
        try {
            o = o.withEnabled(true)
                    .withSockets(socket(overlayDockerSocket, OverlaySettings.DEFAULT_DOCKER_SOCKET),
                            socket(overlayCniSocket, OverlaySettings.DEFAULT_CNI_SOCKET))
                    .withUnderlay(overlayUnderlay, overlayVxlanPort != null ? overlayVxlanPort : o.vxlanPort(),
                            overlayMtu != null ? overlayMtu : 0)
                    .withTimers(overlayLeaseTtl != null ? duration("-overlay-lease-ttl", overlayLeaseTtl) : o.leaseTtl(),
                            overlayReconcileInterval != null
                                    ? duration("-overlay-reconcile-interval", overlayReconcileInterval)
                                    : o.reconcileInterval())
                    .withGatewayDns(overlayGatewayDns == null || overlayGatewayDns);
        } catch (ParameterException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        return o;
    }

    private static Path socket(String flag, Path defaultPath) {
        if (flag == null) {
            return defaultPath;
        }
        return flag.equals("none") || flag.isBlank() ? null : Path.of(flag);
    }

    /** A client's -retry-join: host[:port] of a server's HTTP API (port 8500 when left out). */
    private String httpAddress(String text) {
        String t = text.strip();
        if (t.startsWith("http://")) {
            t = t.substring("http://".length());
        }
        if (t.endsWith("/")) {
            t = t.substring(0, t.length() - 1);
        }
        String host = t;
        int port = AgentConfig.DEFAULT_HTTP_PORT;
        int colon = t.lastIndexOf(':');
        boolean bracketed = t.startsWith("[");
        if (colon > 0 && (!bracketed || t.indexOf(']') < colon) && (bracketed || t.indexOf(':') == colon)) {
            host = t.substring(0, colon);
            try {
                port = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
        }
        if (host.isEmpty() || port < 1 || port > 65535 || host.contains("/")) {
            throw new ParameterException(spec.commandLine(), "-retry-join on a client must be HOST[:PORT] of a"
                    + " server's HTTP API, got '" + text + "'");
        }
        return host + ":" + port;
    }

    private DiscoveryConfig discovery(String clientAddr) {
        DiscoveryConfig d = DiscoveryConfig.defaults(dnsAddr != null ? dnsAddr : clientAddr);
        try {
            if (checkUpdateInterval != null) {
                d = d.withCheckUpdateInterval(duration("-check-update-interval", checkUpdateInterval));
            }
            if (nodeHealthTimeout != null) {
                d = d.withNodeHealthTimeout(duration("-node-health-timeout", nodeHealthTimeout));
            }
            if (dnsPort != null) {
                d = d.withDnsPort(dnsPort);
            }
            if (domain != null || altDomain != null) {
                d = d.withDomains(domain != null ? domain : d.domain(), altDomain);
            }
            d = d.withRecursors(recursors);
            if (dnsRateLimit != null) {
                d = d.withDnsRateLimit(dnsRateLimit);
            }
            Map<String, Duration> ttls = new LinkedHashMap<>();
            for (String entry : dnsServiceTtl) {
                int eq = entry.indexOf('=');
                if (eq <= 0) {
                    throw new ParameterException(spec.commandLine(),
                            "-dns-service-ttl must be NAME=DURATION, got '" + entry + "'");
                }
                ttls.put(entry.substring(0, eq), duration("-dns-service-ttl", entry.substring(eq + 1)));
            }
            RegistratorSettings r = RegistratorSettings.defaults()
                    .withEnabled(registrator == null || registrator)
                    .withDockerHost(dockerHost)
                    .withForcedIp(registratorIp)
                    .withModes(internal, explicit, deregister)
                    .withTags(registratorTags, useIpFromNetwork);
            if (resync != null) {
                r = r.withResync(duration("-resync", resync));
            }
            return d.withDnsAnswers(dnsOnlyPassing, dnsNodeTtl == null ? Duration.ZERO
                    : duration("-dns-node-ttl", dnsNodeTtl), ttls).withRegistrator(r);
        } catch (ParameterException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private Duration duration(String flag, String text) {
        try {
            return GoDuration.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), flag + ": " + e.getMessage());
        }
    }

    private void banner(AgentServer agent, boolean temporary) {
        AgentConfig c = agent.config();
        io.out().println("==> weft agent running!");
        io.out().println("           Version: " + Version.version());
        io.out().println("         Node name: '" + c.nodeName() + "'");
        io.out().println("        Datacenter: '" + c.datacenter() + "'");
        io.out().println("            Server: " + (c.server() ? "true (bootstrap-expect " + c.bootstrapExpect() + ")"
                : "false (client of " + String.join(", ", c.retryJoin()) + ")"));
        io.out().println("          HTTP API: http://" + agent.httpAddr());
        if (agent.httpsAddress() != null) {
            io.out().println("         HTTPS API: https://" + agent.httpsAddress().getHostString() + ":"
                    + agent.httpsAddress().getPort());
        }
        io.out().println("               DNS: " + (agent.dnsAddress() == null ? "off"
                : agent.dnsAddress().getHostString() + ":" + agent.dnsAddress().getPort() + " (udp, tcp), domain "
                + c.discovery().domain() + (c.discovery().altDomain() == null ? "" : " and "
                + c.discovery().altDomain())));
        if (c.server()) {
            io.out().println("              Raft: " + agent.raftAddress());
        }
        io.out().println("          Data dir: " + c.dataDir() + (temporary ? " (temporary, removed on exit)" : ""));
        io.out().println();
        io.out().println("==> Log data will now stream in as it occurs:");
        io.out().flush();
    }

    static String hostName() {
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(p)) {
                String h = Files.readString(p).strip();
                if (!h.isEmpty()) {
                    return h;
                }
            }
        } catch (IOException e) {
            // fall through
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "weft";
        }
    }

    static void deleteQuietly(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            log.warn("could not remove {}: {}", dir, e.toString());
        }
    }
}
