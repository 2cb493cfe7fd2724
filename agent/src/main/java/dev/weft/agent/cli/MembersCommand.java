package dev.weft.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/** {@code weft members}: the cluster's servers as the agent sees them. */
@Command(name = "members", description = "List the members of the cluster", mixinStandardHelpOptions = true)
public final class MembersCommand implements Callable<Integer> {
    private final CliIo io;
    @Mixin
    HttpAddressOption addr;

    public MembersCommand(CliIo io) {
        this.io = io;
    }

    @Override
    public Integer call() throws InterruptedException {
        ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/agent/members"), "Failed to list members");
        TextTable t = new TextTable("Node", "Address", "Status", "Type", "Build", "Protocol", "DC");
        for (JsonNode m : KvCommand.parse(r.body())) {
            JsonNode tags = m.path("Tags");
            t.row(m.path("Name").asText(), m.path("Addr").asText() + ":" + m.path("Port").asText(),
                    m.path("Status").asInt() == 1 ? "alive" : "failed",
                    "consul".equals(tags.path("role").asText()) ? "server" : "client",
                    tags.path("build").asText(), tags.path("vsn").asText("2"), tags.path("dc").asText());
        }
        t.print(io.out());
        return 0;
    }
}
