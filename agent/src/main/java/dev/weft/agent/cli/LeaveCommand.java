package dev.weft.agent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/**
 * {@code weft leave}: like Consul's, a graceful leave and shutdown of the agent: it leaves its overlay networks at once
 * (other hosts drop their routes to it now, not after the lease TTL), marks its node as left, and exits.
 */
@Command(name = "leave", description = "Gracefully leave the cluster and shut down the agent",
        mixinStandardHelpOptions = true)
public final class LeaveCommand implements Callable<Integer> {
    private final CliIo io;
    @Mixin
    HttpAddressOption addr;

    public LeaveCommand(CliIo io) {
        this.io = io;
    }

    @Override
    public Integer call() throws InterruptedException {
        ApiClient.check(addr.client(io).put("/v1/agent/leave", new byte[0]), "Failed to leave");
        io.out().println("Graceful leave complete");
        io.out().flush();
        return 0;
    }
}
