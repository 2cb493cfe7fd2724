package dev.weft.agent.cli;

import dev.weft.agent.Version;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code weft version}. */
@Command(name = "version", description = "Print the weft version", mixinStandardHelpOptions = true)
public final class VersionCommand implements Callable<Integer> {
    private final CliIo io;

    public VersionCommand(CliIo io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        io.out().println("weft v" + Version.version());
        if (!Version.revision().isEmpty()) {
            io.out().println("Revision " + Version.revision());
        }
        io.out().flush();
        return 0;
    }
}
