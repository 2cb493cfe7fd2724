package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code weft operator raft list-peers|remove-peer|transfer-leader}. */
@Command(name = "operator", description = "Cluster operator tools", subcommands = OperatorCommand.Raft.class)
public final class OperatorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "raft", description = "Inspect and change the Raft configuration",
            subcommands = {ListPeers.class, RemovePeer.class, TransferLeader.class})
    public static final class Raft implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            throw new ParameterException(spec.commandLine(), "Missing required subcommand");
        }
    }

    @Command(name = "list-peers", description = "List the Raft servers", mixinStandardHelpOptions = true)
    public static final class ListPeers implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;

        public ListPeers(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/operator/raft/configuration"),
                    "Failed to get the Raft configuration");
            TextTable t = new TextTable("Node", "ID", "Address", "State", "Voter", "RaftProtocol");
            for (JsonNode s : KvCommand.parse(r.body()).path("Servers")) {
                t.row(s.path("Node").asText(), s.path("ID").asText(), s.path("Address").asText(),
                        s.path("Leader").asBoolean() ? "leader" : "follower",
                        Boolean.toString(s.path("Voter").asBoolean()), s.path("ProtocolVersion").asText());
            }
            t.print(io.out());
            return 0;
        }
    }

    @Command(name = "remove-peer", description = "Remove a server from the Raft configuration",
            mixinStandardHelpOptions = true)
    public static final class RemovePeer implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-id", "--id"}, paramLabel = "ID", description = "Raft ID of the server to remove")
        String id;
        @Option(names = {"-address", "--address"}, paramLabel = "HOST:PORT", description = "Raft address instead")
        String address;

        public RemovePeer(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            if ((id == null) == (address == null)) {
                throw new ParameterException(spec.commandLine(), "Specify exactly one of -id and -address");
            }
            String q = id != null ? "id=" + ApiClient.encodeQuery(id) : "address=" + ApiClient.encodeQuery(address);
            ApiClient.check(addr.client(io).delete("/v1/operator/raft/peer?" + q), "Failed to remove Raft peer");
            io.out().println("Removed peer with " + (id != null ? "id \"" + id + "\"" : "address \"" + address + "\""));
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "transfer-leader", description = "Hand Raft leadership to another server",
            mixinStandardHelpOptions = true)
    public static final class TransferLeader implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Option(names = {"-id", "--id"}, paramLabel = "ID", description = "Raft ID of the new leader (default: any)")
        String id;

        public TransferLeader(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            String q = id == null ? "" : "?id=" + ApiClient.encodeQuery(id);
            ApiClient.check(addr.client(io).post("/v1/operator/raft/transfer-leader" + q),
                    "Failed to transfer leadership");
            io.out().println("Success! Leadership transferred" + (id == null ? "." : " to " + id + "."));
            io.out().flush();
            return 0;
        }
    }
}
