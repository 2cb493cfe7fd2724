package dev.weft.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.weft.kvstore.testing.Poll;
import dev.weft.kvstore.testing.Requires;
import dev.weft.net.model.Endpoint;
import dev.weft.net.netlink.Commands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Podman 4.3 with its CNI backend runs two containers on a weft network: {@code podman --network-backend cni
 * --cni-config-dir DIR run --network weftpod …} with a conflist whose plugin is {@code weft-cni}, found through
 * {@code cni_plugin_dirs} of a private containers.conf ({@code CONTAINERS_CONF}). Private storage (vfs) and run
 * directories; the image is a busybox-static rootfs imported with {@code podman import}. Container B reads a
 * greeting from container A's busybox nc over the weft network (TCP; busybox-static's wget crashes on Debian 12);
 * removing the containers releases their addresses (CNI DEL).
 */
class PodmanCniTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private CniLab lab;
    private final List<String> containers = new ArrayList<>();
    private List<String> podman;

    @AfterEach
    void stop() {
        for (String c : containers) {
            try {
                podman("rm", "-f", "-t", "0", c);
            } catch (AssertionError | RuntimeException e) {
                System.err.println("cleanup: " + e);
            }
        }
        if (lab != null) {
            lab.close();
        }
    }

    private String podman(String... args) {
        List<String> cmd = new ArrayList<>(podman);
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private String run(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("CONTAINERS_CONF", dir.resolve("containers.conf").toString());
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            String text = new String(out);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + text);
            }
            return text.trim();
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void twoPodmanContainersTalkOverAWeftNetwork() throws IOException {
        lab = CniLab.start(dir.resolve("lab"));
        String podmanPath = Requires.command("podman");
        String busybox = Requires.command("busybox");
        CniLab.Host host = lab.host(1);

        Path conf = Files.createDirectories(dir.resolve("cni-conf"));
        Files.writeString(conf.resolve("weftpod.conflist"), "{\"cniVersion\":\"1.0.0\",\"name\":\"weftpod\","
                + "\"plugins\":[{\"type\":\"weft-cni\",\"subnet\":\"10.215.0.0/16\",\"agentSocket\":\""
                + host.socket() + "\"}]}");
        Files.writeString(dir.resolve("containers.conf"), "[network]\nnetwork_backend = \"cni\"\n"
                + "cni_plugin_dirs = [\"" + lab.executable().getParent() + "\"]\n"
                + "network_config_dir = \"" + conf + "\"\n");
        podman = List.of(podmanPath, "--root", dir.resolve("storage").toString(), "--runroot",
                dir.resolve("run").toString(), "--storage-driver", "vfs", "--network-backend", "cni",
                "--cni-config-dir", conf.toString(), "--log-level", "error");

        Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of(busybox), rootfs.resolve("busybox"));
        for (String tool : List.of("sh", "nc", "echo", "sleep")) {
            Files.createSymbolicLink(rootfs.resolve(tool), Path.of("busybox"));
        }
        Path tarFile = dir.resolve("rootfs.tar");
        Commands.run("tar", "-C", dir.resolve("rootfs").toString(), "-cf", tarFile.toString(), ".");
        podman("import", "-c", "CMD [\"/bin/sh\"]", tarFile.toString(), "weft-test/busybox");

        List<String> limits = List.of("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024");
        String a = lab.prefix + "a";
        String b = lab.prefix + "b";
        containers.add(a);
        containers.add(b);
        List<String> runA = new ArrayList<>(List.of("run", "-d", "--name", a, "--network", "weftpod"));
        runA.addAll(limits);
        runA.addAll(List.of("weft-test/busybox", "nc", "-ll", "-p", "8080", "-e", "echo", "hello-from-weft"));
        podman(runA.toArray(String[]::new));
        List<String> runB = new ArrayList<>(List.of("run", "-d", "--name", b, "--network", "weftpod"));
        runB.addAll(limits);
        runB.addAll(List.of("weft-test/busybox", "sleep", "3600"));
        podman(runB.toArray(String[]::new));

        List<Endpoint> endpoints = host.networks().overlay().ipam().endpoints("weftpod");
        assertEquals(2, endpoints.size(), endpoints.toString());
        String ipA = podman("inspect", "-f", "{{.NetworkSettings.Networks.weftpod.IPAddress}}", a);
        assertEquals("10.215.0.2", ipA);
        String[] last = {""};
        Poll.until(WAIT, () -> "container B reading container A's greeting over weft (last: " + last[0] + ")", () -> {
            try {
                return podman("exec", b, "nc", "-w", "2", ipA, "8080").contains("hello-from-weft");
            } catch (AssertionError e) {
                last[0] = e.getMessage() + "; A: " + podman("logs", a);
                return false;
            }
        });

        podman("rm", "-f", "-t", "0", a, b);
        containers.clear();
        assertEquals(List.of(), host.networks().overlay().ipam().endpoints("weftpod"), "CNI DEL released both");
    }
}
