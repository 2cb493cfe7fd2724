package dev.weft.agent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;

/** {@code weft snapshot save FILE|restore FILE}: the whole replicated state as one file. */
@Command(name = "snapshot", description = "Save or restore the replicated state",
        subcommands = {SnapshotCommand.Save.class, SnapshotCommand.Restore.class})
public final class SnapshotCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "save", description = "Write a snapshot of the state to FILE", mixinStandardHelpOptions = true)
    public static final class Save implements Callable<Integer> {
        private final CliIo io;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        public Save(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException, IOException {
            ApiClient.Response r = ApiClient.check(addr.client(io).get("/v1/snapshot"), "Failed to get snapshot");
            Path abs = file.toAbsolutePath();
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            Files.write(tmp, r.body());
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            io.out().println("Saved snapshot to " + file + " (index " + r.index() + ", " + r.body().length
                    + " bytes)");
            io.out().flush();
            return 0;
        }
    }

    @Command(name = "restore", description = "Replace the state with the snapshot in FILE",
            mixinStandardHelpOptions = true)
    public static final class Restore implements Callable<Integer> {
        private final CliIo io;
        @Spec
        CommandSpec spec;
        @Mixin
        HttpAddressOption addr;
        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        public Restore(CliIo io) {
            this.io = io;
        }

        @Override
        public Integer call() throws InterruptedException {
            byte[] body;
            try {
                body = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new CliFailure("Error! Cannot read " + file + ": " + e.getMessage());
            }
            ApiClient.check(addr.client(io).put("/v1/snapshot", body), "Failed to restore snapshot");
            io.out().println("Restored snapshot from " + file);
            io.out().flush();
            return 0;
        }
    }
}
