package dev.weft.agent.overlay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import dev.weft.runtime.testing.NamespacedDockerd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two simulated hosts, each a network namespace on a shared underlay bridge (in a third namespace) with its own
 * weft agent (a separate JVM started inside the namespace with {@code -overlay}: h1 a server, h2 a client) and its
 * own dockerd ({@link NamespacedDockerd}, whose plugin directory holds that agent's {@code weft.sock}). Users' steps
 * only: {@code docker network create -d weft --ipam-driver weft} on each host, {@code docker run --network}. The
 * cases run in order on the same hosts: traffic by IP and by DNS name, isolation, MTU, an agent killed under
 * traffic, a host removed (its lease expires and its routes go on h1) and returning, and 1,000 endpoint cycles.
 * Everything lives in namespaces this test creates ({@code wfo} + 4 hex), removed in {@link #tearDown}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OverlayHostsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONVERGE = Duration.ofSeconds(30);
    private static final String IMAGE = NamespacedDockerd.IMAGE;
    private static final String BLUE = "10.210.0.0/16";
    private static final String RED = "10.211.0.0/16";

    private final String prefix = "wfo" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(4);
    private final List<String> namespaces = new ArrayList<>();
    private Path dir;
    private String ip;
    private String nsenter;
    private Host h1;
    private Host h2;

    /** A simulated host: namespace, underlay address, agent process and dockerd. */
    private final class Host {
        final String name;
        final String ns;
        final String address;
        final Path dataDir;
        final Path pluginDir;
        final Path log;
        Process agent;
        NamespacedDockerd docker;

        Host(String name, String ns, String address) throws IOException {
            this.name = name;
            this.ns = ns;
            this.address = address;
            this.dataDir = Files.createDirectories(dir.resolve(name + "-data"));
            this.pluginDir = Files.createDirectories(dir.resolve(name + "-plugins"));
            this.log = dir.resolve(name + ".log");
        }

        Path nsFile() {
            return Path.of("/run/netns", ns);
        }

        Path cniSocket() {
            return dir.resolve(name + "-cni.sock");
        }

        void startDocker() {
            docker = NamespacedDockerd.start(nsFile(), pluginDir);
        }

        void startAgent() throws IOException {
            List<String> cmd = new ArrayList<>(List.of(nsenter, "--net=" + nsFile(),
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            cmd.addAll(List.of(System.getProperty("weft.it.jvmArgs",
                    "-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1").trim().split("\\s+")));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.weft.agent.Main", "agent",
                    "-node", name, "-bind", address, "-client", address, "-data-dir", dataDir.toString(),
                    "-dns-port", "8600", "-docker-host", docker.host(), "-internal",
                    "-overlay", "-overlay-docker-socket", pluginDir.resolve("weft.sock").toString(),
                    "-overlay-cni-socket", cniSocket().toString(), "-overlay-lease-ttl", "10s"));
            if (this == h1) {
                cmd.addAll(List.of("-server", "-bootstrap-expect", "1"));
            } else {
                cmd.addAll(List.of("-retry-join", h1.address + ":8500"));
            }
            Files.writeString(log, "\n===== " + Instant.now() + " starting " + name + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            agent = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            Poll.until(Duration.ofSeconds(90), () -> name + "'s agent to start its overlay (log " + log + ")", () -> {
                if (!agent.isAlive()) {
                    throw new AssertionError(name + "'s agent exited: " + tail());
                }
                return tail().contains("overlay on: host " + name) ? true : null;
            });
        }

        void killAgent() throws InterruptedException {
            if (agent != null && agent.isAlive()) {
                agent.destroyForcibly();
                agent.waitFor(30, TimeUnit.SECONDS);
            }
        }

        String tail() {
            try {
                String s = Files.readString(log);
                return s.substring(Math.max(0, s.length() - 8000));
            } catch (IOException e) {
                return "";
            }
        }

        /** {@code weft -http-addr ADDR ARGS} from this host's namespace (the CLI as a user runs it). */
        String weft(String... args) {
            List<String> cmd = new ArrayList<>(List.of(nsenter, "--net=" + nsFile(),
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1",
                    "-cp", System.getProperty("java.class.path"), "dev.weft.agent.Main"));
            cmd.addAll(List.of(args));
            cmd.add("-http-addr");
            cmd.add(address + ":8500");
            return run(cmd);
        }

        String containerIp(String container) {
            return docker.output("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                    container).strip();
        }

        /** The container's PID, for running the machine's own tools in its namespace ({@code nsenter -t PID -n}). */
        String pid(String container) {
            return docker.output("inspect", "-f", "{{.State.Pid}}", container).strip();
        }

        /** Runs a command in a container; true when it exits 0. */
        boolean succeeds(String container, String... command) {
            List<String> cmd = new ArrayList<>(List.of(Requires.command("docker"), "-H", docker.host(), "exec",
                    container));
            cmd.addAll(List.of(command));
            return execute(cmd).exit == 0;
        }

        String dockerOut(String container, String... command) {
            List<String> cmd = new ArrayList<>(List.of(Requires.command("docker"), "-H", docker.host(), "exec",
                    container));
            cmd.addAll(List.of(command));
            return execute(cmd).out;
        }
    }

    @BeforeAll
    void setUp() throws Exception {
        Requires.root();
        ip = Requires.command("ip");
        nsenter = Requires.command("nsenter");
        Requires.command("dockerd");
        Requires.command("ping");
        dir = Files.createTempDirectory("weft-overlay-it-");
        String underlay = namespace("u");
        run(List.of(ip, "-n", underlay, "link", "add", "br0", "type", "bridge"));
        run(List.of(ip, "-n", underlay, "link", "set", "br0", "up"));
        h1 = new Host("h1", namespace("1"), "10.252.0.1");
        h2 = new Host("h2", namespace("2"), "10.252.0.2");
        for (Host h : List.of(h1, h2)) {
            String port = "p" + h.name;
            run(List.of(ip, "-n", underlay, "link", "add", port, "type", "veth", "peer", "name", "u0", "netns", h.ns));
            run(List.of(ip, "-n", underlay, "link", "set", port, "master", "br0", "up"));
            run(List.of(ip, "-n", h.ns, "addr", "add", h.address + "/24", "dev", "u0"));
            run(List.of(ip, "-n", h.ns, "link", "set", "u0", "up"));
            run(List.of(ip, "-n", h.ns, "link", "set", "lo", "up"));
        }
        for (Host h : List.of(h1, h2)) {
            h.startDocker();
        }
        h1.startAgent();
        h2.startAgent();
        for (Host h : List.of(h1, h2)) {
            h.docker.exec("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", BLUE, "-o",
                    "name=blue", "blue");
            h.docker.exec("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", RED, "-o",
                    "name=red", "red");
        }
    }

    @AfterAll
    void tearDown() throws Exception {
        List<Throwable> failures = new ArrayList<>();
        for (Host h : new Host[] {h2, h1}) {
            if (h == null) {
                continue;
            }
            try {
                h.killAgent();
            } catch (Exception e) {
                failures.add(e);
            }
            if (h.docker != null) {
                try {
                    h.docker.close();
                } catch (RuntimeException | Error e) {
                    failures.add(e);
                }
            }
        }
        for (String ns : namespaces) {
            Result r = execute(List.of(ip, "netns", "del", ns));
            if (r.exit != 0) {
                failures.add(new IllegalStateException("ip netns del " + ns + ": " + r.out));
            }
        }
        if (dir != null) {
            for (Host h : new Host[] {h1, h2}) {
                if (h != null) {
                    System.out.println("---- " + h.name + " agent log (tail)\n" + h.tail());
                }
            }
            execute(List.of("rm", "-rf", dir.toString()));
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("teardown failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    private String namespace(String suffix) {
        String name = prefix + suffix;
        run(List.of(ip, "netns", "add", name));
        namespaces.add(name);
        return name;
    }

    // ------------------------------------------------------------------------------------------------ cases

    private String webA;
    private String webB;
    private String ipA;
    private String ipB;
    private String ipB2;

    /** This host's gateway in a network, from {@code weft network inspect}. */
    private String gateway(Host h, String network) throws IOException {
        JsonNode n = JSON.readTree(h.weft("network", "inspect", network));
        for (JsonNode l : n.path("Leases")) {
            if (l.path("Host").asText().equals(h.name)) {
                return l.path("Gateway").asText();
            }
        }
        throw new AssertionError(h.name + " holds no lease in " + network + ": " + n);
    }

    private String web(Host h, String name, String network) throws IOException {
        return h.docker.run("--name", name, "--network", network, "--dns", gateway(h, network), "--expose", "8080",
                "-e", "SERVICE_NAME=" + name, IMAGE, "sh", "-c",
                "echo from-" + name + " > /www/index.html && exec httpd -f -p 8080 -h /www");
    }

    @Test
    @Order(1)
    void containersOnTwoHostsReachEachOtherByIpAndByName() throws Exception {
        webA = web(h1, "web-a", "blue");
        webB = web(h2, "web-b", "blue");
        ipA = h1.containerIp(webA);
        ipB = h2.containerIp(webB);
        assertTrue(ipA.startsWith("10.210.") && ipB.startsWith("10.210."), ipA + " " + ipB);
        assertNotEquals(ipA.substring(0, ipA.lastIndexOf('.')), ipB.substring(0, ipB.lastIndexOf('.')),
                "each host allocates from its own subnet");
        Poll.until(CONVERGE, () -> "web-a to reach web-b at " + ipB, () ->
                http(h1, webA, ipB).contains("from-web-b")
                        ? true : null);
        assertTrue(h2.succeeds(webB, "ping", "-c", "1", "-W", "2", ipA));
        assertTrue(http(h2, webB, ipA)
                .contains("from-web-a"));
        // by name: each container's resolver is its host's gateway, where the weft agent answers DNS on port 53
        Poll.until(CONVERGE, () -> "web-a to fetch web-b.service.weft:8080 by name", () ->
                http(h1, webA, "web-b.service.weft")
                        .contains("from-web-b") ? true : null);
        String answer = h2.dockerOut(webB, "nslookup", "web-a.service.weft");
        assertTrue(answer.contains(ipA), answer);
    }

    @Test
    @Order(2)
    void networksAreIsolated() throws Exception {
        String redA = web(h1, "red-a", "red");
        String redB = web(h2, "red-b", "red");
        String ipRedB = h2.containerIp(redB);
        // the positive control: red reaches red across hosts
        Poll.until(CONVERGE, () -> "red-a to reach red-b at " + ipRedB, () ->
                http(h1, redA, ipRedB)
                        .contains("from-red-b") ? true : null);
        assertTrue(!http(h1, redA, ipB).contains("200 OK"),
                "red-a (h1) reached blue web-b on h2");
        assertTrue(!http(h1, redA, ipA).contains("200 OK"),
                "red-a reached blue web-a on its own host");
        assertTrue(!h1.succeeds(webA, "ping", "-c", "1", "-W", "1", ipRedB), "web-a (blue) pinged red-b");
        h1.docker.exec("rm", "-f", redA);
        h2.docker.exec("rm", "-f", redB);
    }

    @Test
    @Order(3)
    void theMtuIsTheUnderlayLessFiftyAndLargerPacketsAreRefused() {
        assertEquals("1450", h1.dockerOut(webA, "cat", "/sys/class/net/eth0/mtu").strip());
        assertEquals("1450", h2.dockerOut(webB, "cat", "/sys/class/net/eth0/mtu").strip());
        String pid = h1.pid(webA);
        // 1,400 and 1,422 bytes of payload with DF (1,450 with the IP and ICMP headers) cross the tunnel
        for (String size : List.of("1400", "1422")) {
            Result r = execute(List.of(nsenter, "-t", pid, "-n", "ping", "-M", "do", "-s", size, "-c", "1", "-W", "2",
                    ipB));
            assertEquals(0, r.exit, "DF ping of " + size + " bytes: " + r.out);
        }
        Result tooBig = execute(List.of(nsenter, "-t", pid, "-n", "ping", "-M", "do", "-s", "1423", "-c", "1", "-W",
                "2", ipB));
        assertNotEquals(0, tooBig.exit, tooBig.out);
        assertTrue(tooBig.out.toLowerCase().contains("message too long") || tooBig.out.contains("mtu"), tooBig.out);
    }

    @Test
    @Order(4)
    void killingAndRestartingAnAgentLeavesRunningTrafficAlone() throws Exception {
        String pid = h1.pid(webA);
        Process ping = new ProcessBuilder(nsenter, "-t", pid, "-n", "ping", "-i", "0.02", "-c", "400", "-W", "1", ipB)
                .redirectErrorStream(true).start();
        h2.killAgent();
        String marker = "restart-marker-" + System.nanoTime();
        Files.writeString(h2.log, "\n" + marker + "\n", StandardOpenOptionAppend.OPTIONS);
        h2.startAgent();
        h1.killAgent();
        h1.startAgent();
        assertTrue(ping.waitFor(60, TimeUnit.SECONDS), "ping did not finish");
        String out = new String(ping.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains(" 0% packet loss"), "traffic was interrupted by agent restarts:\n" + out);
        String after = h2.tail().substring(h2.tail().indexOf(marker));
        assertTrue(after.contains("started with networks [blue, red]"), after);
        assertTrue(!after.contains("overlay: network blue reconciled"),
                "a restarted agent changed the kernel:\n" + after);
    }

    @Test
    @Order(5)
    void aRemovedHostsLeaseExpiresAndItsRoutesGoThenItReturns() throws Exception {
        String subnetB = ipB.substring(0, ipB.lastIndexOf('.')) + ".0/24";
        String vni = JSON.readTree(h1.weft("network", "inspect", "blue")).path("VNI").asText();
        assertTrue(routes(h1).contains(subnetB), routes(h1));
        assertTrue(fdb(h1, vni).size() > 0);
        // host B goes away entirely: its agent, its engine and containers, its underlay link
        h2.killAgent();
        h2.docker.close();
        h2.docker = null;
        run(List.of(ip, "-n", h2.ns, "link", "set", "u0", "down"));
        Poll.until(Duration.ofSeconds(90), () -> "h2's lease to expire and its route to go from h1: " + routes(h1),
                () -> routes(h1).contains(subnetB) ? null : true);
        Poll.until(CONVERGE, () -> "h1's FDB to forget h2: " + fdb(h1, vni), () -> fdb(h1, vni).isEmpty() ? true : null);
        assertTrue(!h1.weft("network", "inspect", "blue").contains("\"h2\""));
        // it returns: same data dir (its lease expired: it asks for its old subnet first), a fresh engine
        run(List.of(ip, "-n", h2.ns, "link", "set", "u0", "up"));
        h2.startDocker();
        h2.startAgent();
        h2.docker.exec("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", BLUE, "-o",
                "name=blue", "blue");
        String webB2 = web(h2, "web-b2", "blue");
        ipB2 = h2.containerIp(webB2);
        assertTrue(ipB2.startsWith(subnetB.substring(0, subnetB.length() - 4)), "h2 kept its subnet: " + ipB2);
        Poll.until(CONVERGE, () -> "web-a to reach web-b2 at " + ipB2, () ->
                http(h1, webA, ipB2)
                        .contains("from-web-b2") ? true : null);
    }

    /** weft-cni exactly as a runtime runs it (env + stdin), through h1's agent socket: the same network as Docker's. */
    @Test
    @Order(6)
    void aCniContainerJoinsTheSameNetworkAndLeavesNothingOnDel() throws Exception {
        String container = namespace("c");
        Path plugin = Path.of("..", "cni", "weft-cni").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(plugin), plugin + " (built by the cni module)");
        String config = "{\"cniVersion\":\"1.0.0\",\"name\":\"blue\",\"type\":\"weft-cni\",\"agentSocket\":\""
                + h1.cniSocket() + "\"}";
        Result add = cni(plugin, "ADD", container, config);
        assertEquals(0, add.exit, add.out);
        JsonNode result = JSON.readTree(add.out);
        String address = result.path("ips").get(0).path("address").asText();
        String gateway = result.path("ips").get(0).path("gateway").asText();
        assertTrue(address.startsWith("10.210."), add.out);
        assertEquals(gateway, gateway(h1, "blue"));
        assertEquals(gateway, result.path("dns").path("nameservers").get(0).asText(), add.out);
        String ip = address.substring(0, address.indexOf('/'));
        assertTrue(endpointIps(h1).contains(ip));
        // reaches a Docker container on the other host, by IP and by name through the gateway's DNS
        Result ping = execute(List.of(this.ip, "netns", "exec", container, "ping", "-c", "1", "-W", "2", ipB2));
        assertEquals(0, ping.exit, ping.out);
        Poll.until(CONVERGE, () -> "the CNI container to resolve web-b2.service.weft through " + gateway, () -> {
            Result r = execute(List.of(this.ip, "netns", "exec", container, "/bin/busybox", "nslookup",
                    "web-b2.service.weft", gateway));
            return r.out.contains(ipB2) ? true : null;
        });
        Result del = cni(plugin, "DEL", container, config);
        assertEquals(0, del.exit, del.out);
        assertEquals(0, cni(plugin, "DEL", container, config).exit, "a second DEL is fine");
        assertTrue(!endpointIps(h1).contains(ip), "DEL released " + ip);
        String links = run(List.of(this.ip, "-n", container, "-o", "link", "show"));
        assertTrue(!links.contains("eth0"), links);
    }

    private static Result cni(Path plugin, String command, String container, String config) {
        try {
            ProcessBuilder pb = new ProcessBuilder(plugin.toString()).redirectErrorStream(false);
            pb.environment().putAll(java.util.Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", "it-" + container,
                    "CNI_NETNS", "/run/netns/" + container, "CNI_IFNAME", "eth0", "CNI_PATH",
                    plugin.getParent().toString()));
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            Process p = pb.start();
            p.getOutputStream().write(config.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("weft-cni " + command + " timed out");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    @Order(7)
    void aThousandEndpointCyclesLeakNoAddress() throws Exception {
        Path socket = h1.pluginDir.resolve("weft.sock");
        String pool = "weft:" + BLUE;
        String networkId = h1.docker.output("network", "inspect", "-f", "{{.Id}}", "blue").strip();
        Set<String> before = endpointIps(h1);
        Set<String> seen = new TreeSet<>();
        for (int i = 0; i < 1000; i++) {
            JsonNode a = UnixHttp.post(socket, "/IpamDriver.RequestAddress", "{\"PoolID\":\"" + pool + "\"}");
            String address = a.path("Address").asText();
            seen.add(address);
            String endpoint = "%064x".formatted(i + 1L);
            UnixHttp.post(socket, "/NetworkDriver.CreateEndpoint", "{\"NetworkID\":\"" + networkId
                    + "\",\"EndpointID\":\"" + endpoint + "\",\"Interface\":{\"Address\":\"" + address + "\"}}");
            UnixHttp.post(socket, "/NetworkDriver.Join", "{\"NetworkID\":\"" + networkId + "\",\"EndpointID\":\""
                    + endpoint + "\",\"SandboxKey\":\"/none\"}");
            UnixHttp.post(socket, "/NetworkDriver.Leave", "{\"NetworkID\":\"" + networkId + "\",\"EndpointID\":\""
                    + endpoint + "\"}");
            UnixHttp.post(socket, "/NetworkDriver.DeleteEndpoint", "{\"NetworkID\":\"" + networkId
                    + "\",\"EndpointID\":\"" + endpoint + "\"}");
            UnixHttp.post(socket, "/IpamDriver.ReleaseAddress", "{\"PoolID\":\"" + pool + "\",\"Address\":\""
                    + address.substring(0, address.indexOf('/')) + "\"}");
            if ((i + 1) % 250 == 0) {
                System.out.println("endpoint cycles: " + (i + 1) + "/1000");
            }
        }
        assertEquals(1, seen.size(), "the lowest free address is reused every time: " + seen);
        assertEquals(before, endpointIps(h1), "endpoints left behind");
        String links = run(List.of(ip, "-n", h1.ns, "-o", "link", "show"));
        long hostEnds = links.lines().filter(l -> l.matches("\\d+: wfe\\w+@.*")).count();
        long containers = h1.docker.output("ps", "-q").lines().filter(l -> !l.isBlank()).count();
        assertEquals(containers, hostEnds, "veths left behind:\n" + links);
    }

    @Test
    @Order(8)
    void aGracefulLeaveDropsTheHostsRoutesEverywhereAtOnce() throws Exception {
        String subnetB = null;
        for (JsonNode l : JSON.readTree(h1.weft("network", "inspect", "blue")).path("Leases")) {
            if (l.path("Host").asText().equals("h2")) {
                subnetB = l.path("Subnet").asText();
            }
        }
        assertTrue(subnetB != null && routes(h1).contains(subnetB), routes(h1));
        assertEquals("Graceful leave complete", h2.weft("leave").strip());
        assertTrue(h2.agent.waitFor(30, TimeUnit.SECONDS), "h2's agent did not exit after leaving");
        assertEquals(0, h2.agent.exitValue());
        String gone = subnetB;
        // well under the 10 s lease TTL: the leave released the lease, it did not wait for it to expire
        Poll.until(Duration.ofSeconds(5), () -> "h1 to drop its route to " + gone + ": " + routes(h1),
                () -> routes(h1).contains(gone) ? null : true);
        String links = run(List.of(ip, "-n", h2.ns, "-o", "link", "show"));
        assertTrue(links.lines().noneMatch(l -> l.matches("\\d+: wf[bv]\\d+.*")), "h2 kept its devices:\n" + links);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * An HTTP GET from a container to HOST:8080 with busybox {@code nc} (busybox-static's {@code wget} crashes in
     * these containers; {@code nc} resolves names through the container's resolver too): the answer, or "".
     */
    private static String http(Host h, String container, String host) {
        return h.dockerOut(container, "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + host + " 8080");
    }

    private Set<String> endpointIps(Host h) throws IOException {
        Set<String> out = new TreeSet<>();
        for (JsonNode e : JSON.readTree(h.weft("network", "inspect", "blue")).path("Endpoints")) {
            if (e.path("Host").asText().equals(h.name)) {
                out.add(e.path("IP").asText());
            }
        }
        return out;
    }

    private String routes(Host h) {
        return run(List.of(ip, "-n", h.ns, "route", "show"));
    }

    /** The unicast FDB entries of the host's VXLAN device of a network (other hosts' VTEPs). */
    private List<String> fdb(Host h, String vni) {
        String out = run(List.of(ip, "netns", "exec", h.ns, "bridge", "fdb", "show", "dev", "wfv" + vni));
        return out.lines().filter(l -> l.contains(" dst ") && !l.startsWith("00:00:00:00:00:00")).toList();
    }

    private record Result(int exit, String out) {
    }

    private static Result execute(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String run(List<String> cmd) {
        Result r = execute(cmd);
        if (r.exit != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit + ": " + r.out);
        }
        return r.out;
    }

    private static final class StandardOpenOptionAppend {
        static final java.nio.file.OpenOption[] OPTIONS = {java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND};
    }
}
