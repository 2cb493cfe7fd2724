package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * {@code weft network create|ls|inspect|rm}: the overlay networks' registry through {@code /v1/weft/network*}. A
 * network created here exists for every host; each host builds its devices when it first attaches a container.
 */
@Command(name = "network", description = "Manage overlay networks",
        subcommands = {NetworkCommand.Create.class, NetworkCommand.Ls.class, NetworkCommand.Inspect.class,
                NetworkCommand.Rm.class})
public final class NetworkCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** The answer about network {@code name}, unless it does not exist or the call failed (exit 1 with a message). */
    static ApiClient.Response existing(ApiClient.Response r, String name, String verb) {
        if (r.status() == 404) {
            throw new CliFailure("Error! No network named " + name);
        }
        return ApiClient.check(r, "Failed to " + verb + " network " + name);
    }

    @Command(name = "create", description = "Create an overlay network", mixinStandardHelpOptions = true)
    public static final class Create implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-subnet", "--subnet"}, paramLabel = "CIDR",
                description = "The network's range (default: the next free /16 of 10.192.0.0/12)")
        String subnet;
        @Option(names = {"-host-subnet-length", "--host-subnet-length"}, paramLabel = "N",
                description = "Prefix length of each host's share (24)")
        Integer subnetLength;
        @Option(names = {"-vni", "--vni"}, paramLabel = "N", description = "VXLAN network identifier (next free from 4096)")
        Integer vni;
        @Option(names = {"-mtu", "--mtu"}, paramLabel = "BYTES", description = "Containers' MTU (underlay MTU - 50)")
        Integer mtu;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        public Create(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ObjectNode body = JSON.createObjectNode();
            if (subnet != null) {
                body.put("CIDR", subnet);
            }
            if (subnetLength != null) {
                body.put("SubnetLength", subnetLength);
            }
            if (vni != null) {
                body.put("VNI", vni);
            }
            if (mtu != null) {
                body.put("MTU", mtu);
            }
            ApiClient.Response r = ApiClient.check(addr.client(io).put("/v1/weft/network/"
                    + CatalogCommand.segment(name), body.toString().getBytes(StandardCharsets.UTF_8)),
                    "Failed to create network " + name);
            JsonNode n = KvCommand.parse(r.body());
            io.out().println("Created network " + n.path("Name").asText() + ": " + n.path("CIDR").asText() + ", vni "
                    + n.path("VNI").asText());
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "ls", description = "List the overlay networks", mixinStandardHelpOptions = true)
    public static final class Ls implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;

        public Ls(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/weft/networks"), "Failed to list networks");
            TextTable t = new TextTable("Name", "CIDR", "VNI", "MTU", "ID");
            for (JsonNode n : KvCommand.parse(r.body())) {
                String id = n.path("ID").asText();
                t.row(n.path("Name").asText(), n.path("CIDR").asText(), n.path("VNI").asText(),
                        n.path("MTU").asInt() == 0 ? "auto" : n.path("MTU").asText(),
                        id.length() > 12 ? id.substring(0, 12) : id);
            }
            t.print(io.out());
            return 0;
        }
    }

    @Command(name = "inspect", description = "Show a network with its host leases and endpoints (JSON)",
            mixinStandardHelpOptions = true)
    public static final class Inspect implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        public Inspect(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            ApiClient.Response r = existing(addr.client(io).get("/v1/weft/network/" + CatalogCommand.segment(name)),
                    name, "inspect");
            PrintWriter out = io.out();
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(KvCommand.parse(r.body())));
            out.flush();
            return 0;
        }
    }

    @Command(name = "rm", description = "Delete a network (it must have no endpoints)", mixinStandardHelpOptions = true)
    public static final class Rm implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        public Rm(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            existing(addr.client(io).delete("/v1/weft/network/" + CatalogCommand.segment(name)), name, "delete");
            io.out().println("Deleted network " + name);
            io.out().flush();
            return 0;
        }
    }
}
