package dev.weft.agent;

import dev.weft.dns.DnsServer;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.net.control.ControlSettings;
import dev.weft.net.control.ControlView;
import dev.weft.net.control.EndpointIpam;
import dev.weft.net.control.LeaseKeeper;
import dev.weft.net.control.NetworkRegistry;
import dev.weft.net.dataplane.DataPlane;
import dev.weft.net.dataplane.UnderlaySettings;
import dev.weft.net.cni.CniServer;
import dev.weft.net.cni.CniSettings;
import dev.weft.net.docker.DockerPluginServer;
import dev.weft.net.docker.DockerPluginSettings;
import dev.weft.net.host.HostNetworks;
import dev.weft.net.host.HostOverlay;
import dev.weft.net.netlink.NetlinkClient;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The overlay network on this host, as the agent runs it ({@code -overlay}): the netlink client of the agent's
 * namespace, the host's lease keeper (session file {@code <data-dir>/net-session}), {@link HostNetworks} (joined
 * networks, reconciled on lease changes and every interval), the Docker driver's and the CNI server's sockets, and the DNS server's
 * extra listeners on this host's gateway addresses (port 53), kept equal to the joined networks.
 */
final class AgentOverlay implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentOverlay.class);
    static final int GATEWAY_DNS_PORT = 53;

    private final NetlinkClient netlink;
    private final LeaseKeeper keeper;
    private final HostNetworks networks;
    private volatile DockerPluginServer docker;
    private volatile CniServer cni;
    private final DnsServer dns;
    private final Set<InetSocketAddress> dnsListeners = new HashSet<>();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private AgentOverlay(NetlinkClient netlink, LeaseKeeper keeper, HostNetworks networks, DnsServer dns) {
        this.netlink = netlink;
        this.keeper = keeper;
        this.networks = networks;
        this.dns = dns;
    }

    /**
     * Starts the overlay of this host.
     *
     * @param advertise the agent's advertised IP (the underlay address unless the settings name one)
     * @param dns       the DNS server to add gateway listeners to, or null
     */
    static AgentOverlay start(OverlaySettings s, ReplicatedStore store, String node, String hostId, Path dataDir,
                              String advertise, DnsServer dns, MeterRegistry registry) {
        Inet4Address underlay = ipv4(s.underlay() != null ? s.underlay() : advertise);
        if (underlay.isAnyLocalAddress()) {
            throw new IllegalArgumentException("the overlay needs this host's underlay address: give -overlay-underlay"
                    + " IP (or -bind a specific address)");
        }
        ControlSettings control = ControlSettings.defaults().withSessionTtl(s.leaseTtl());
        NetlinkClient netlink = NetlinkClient.open();
        LeaseKeeper keeper = null;
        HostNetworks networks = null;
        DockerPluginServer docker = null;
        CniServer cni = null;
        try {
            keeper = new LeaseKeeper(store, control, node, hostId, underlay, dataDir.resolve("net-session"));
            startKeeper(keeper);
            HostOverlay overlay = new HostOverlay(new NetworkRegistry(store, control), keeper,
                    new EndpointIpam(store, keeper, control), new ControlView(store), control,
                    new DataPlane(netlink, null), new UnderlaySettings(s.vxlanPort(), s.mtu()));
            networks = new HostNetworks(overlay, s.reconcileInterval());
            AgentOverlay agentOverlay = new AgentOverlay(netlink, keeper, networks, s.gatewayDns() ? dns : null);
            networks.onGatewaysChanged(agentOverlay::syncDnsListeners);
            networks.start();
            agentOverlay.syncDnsListeners();
            if (s.dockerSocket() != null) {
                docker = DockerPluginServer.start(DockerPluginSettings.defaults(dataDir).withSocket(s.dockerSocket()),
                        networks);
                agentOverlay.docker = docker;
            }
            if (s.cniSocket() != null) {
                cni = CniServer.start(new CniSettings(s.cniSocket(),
                        s.gatewayDns() && dns != null ? List.of(CniSettings.GATEWAY) : List.of(), List.of()), networks);
                agentOverlay.cni = cni;
            }
            HostNetworks n = networks;
            Gauge.builder("weft.overlay.networks", n, x -> x.joined().size())
                    .description("Overlay networks this host has joined").register(registry);
            FunctionCounter.builder("weft.overlay.reconciles", n, HostNetworks::reconciles)
                    .description("Overlay reconciliation passes").register(registry);
            FunctionCounter.builder("weft.overlay.kernel.changes", n, HostNetworks::changes)
                    .description("Kernel objects the overlay created, replaced or removed").register(registry);
            FunctionCounter.builder("weft.overlay.reconcile.failures", n, HostNetworks::failures)
                    .description("Overlay reconciliation passes that failed").register(registry);
            LOG.info("overlay on: host {} underlay {} (VXLAN port {}), networks {}, Docker driver {}, CNI {}, "
                    + "gateway DNS {}", node, underlay.getHostAddress(), s.vxlanPort(), networks.joined(),
                    docker == null ? "off" : docker.socket(), cni == null ? "off" : cni.socket(),
                    s.gatewayDns() && dns != null ? "on" : "off");
            return agentOverlay;
        } catch (RuntimeException e) {
            if (cni != null) {
                cni.close();
            }
            if (docker != null) {
                docker.close();
            }
            if (networks != null) {
                networks.close();
            }
            if (keeper != null) {
                keeper.close();
            }
            netlink.close();
            throw e;
        }
    }

    /** The store may have no leader for a while after start (a fresh cluster, a client before its first server). */
    private static void startKeeper(LeaseKeeper keeper) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (int attempt = 1; ; attempt++) {
            try {
                keeper.start();
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("overlay: could not open this host's lease session: " + e.getMessage(),
                            e);
                }
                LOG.warn("overlay: opening the lease session failed (attempt {}), retrying: {}", attempt, e.toString());
                try {
                    Thread.sleep(Math.min(2000, 250L * attempt));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while opening the overlay's lease session", ie);
                }
            }
        }
    }

    HostNetworks networks() {
        return networks;
    }

    /** Makes the DNS server listen on exactly this host's gateways (port 53). */
    private synchronized void syncDnsListeners() {
        if (dns == null) {
            return;
        }
        Set<InetSocketAddress> wanted = new HashSet<>();
        for (Inet4Address gw : networks.gateways()) {
            wanted.add(new InetSocketAddress(gw, GATEWAY_DNS_PORT));
        }
        for (InetSocketAddress a : new ArrayList<>(dnsListeners)) {
            if (!wanted.contains(a)) {
                dns.removeListener(a);
                dnsListeners.remove(a);
            }
        }
        for (InetSocketAddress a : wanted) {
            if (!dnsListeners.contains(a)) {
                try {
                    dns.addListener(a);
                    dnsListeners.add(a);
                } catch (RuntimeException e) {
                    LOG.warn("overlay: DNS cannot listen on gateway {} yet: {}", a, e.getMessage());
                }
            }
        }
    }

    /** A graceful leave of this host: devices removed, leases and endpoints released at once; then {@link #close}. */
    void leave() {
        try {
            if (cni != null) {
                cni.close();
                cni = null;
            }
            if (docker != null) {
                docker.close();
                docker = null;
            }
            networks.leaveAll();
        } finally {
            close();
        }
    }

    /** Stops serving; devices, leases and running containers' traffic stay (a restart re-adopts them). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (cni != null) {
                cni.close();
            }
            if (docker != null) {
                docker.close();
            }
        } finally {
            networks.close();
            keeper.close(); // a no-op after a leave
            synchronized (this) {
                if (dns != null) {
                    dnsListeners.forEach(dns::removeListener);
                }
                dnsListeners.clear();
            }
            netlink.close();
        }
    }

    private static Inet4Address ipv4(String address) {
        try {
            InetAddress a = InetAddress.getByName(address);
            if (!(a instanceof Inet4Address v4)) {
                throw new IllegalArgumentException("the overlay's underlay must be IPv4, got " + address);
            }
            return v4;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown underlay address " + address);
        }
    }
}
