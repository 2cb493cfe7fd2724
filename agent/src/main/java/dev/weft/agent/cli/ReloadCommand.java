package dev.weft.agent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;

/**
 * {@code weft reload}: like Consul's, asks the agent to reload ({@code PUT /v1/agent/reload}); today that re-reads
 * its TLS files, as SIGHUP does. A file that cannot be used is reported and the agent keeps the old material.
 */
@Command(name = "reload", description = "Reload the agent's TLS files (as SIGHUP)", mixinStandardHelpOptions = true)
public final class ReloadCommand implements Callable<Integer> {
    private final CliIo io;
    @Mixin
    HttpAddressOption addr;

    public ReloadCommand(CliIo io) {
        this.io = io;
    }

    @Override
    public Integer call() throws InterruptedException {
        ApiClient.Response r = ApiClient.check(addr.client(io).put("/v1/agent/reload", new byte[0]),
                "Failed to reload");
        io.out().println("Configuration reload triggered: " + r.text());
        io.out().flush();
        return 0;
    }
}
