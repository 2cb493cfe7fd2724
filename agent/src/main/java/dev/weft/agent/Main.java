package dev.weft.agent;

import dev.weft.agent.cli.AclCommand;
import dev.weft.agent.cli.AgentCommand;
import dev.weft.agent.cli.CatalogCommand;
import dev.weft.agent.cli.CliFailure;
import dev.weft.agent.cli.CliIo;
import dev.weft.agent.cli.KvCommand;
import dev.weft.agent.cli.LeaveCommand;
import dev.weft.agent.cli.NetworkCommand;
import dev.weft.agent.cli.MembersCommand;
import dev.weft.agent.cli.OperatorCommand;
import dev.weft.agent.cli.ReloadCommand;
import dev.weft.agent.cli.TlsCommand;
import dev.weft.agent.cli.ServicesCommand;
import dev.weft.agent.cli.SnapshotCommand;
import dev.weft.agent.cli.VersionCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.lang.reflect.Constructor;
import java.util.concurrent.Callable;

/**
 * The {@code weft} command line (entry point of the shaded jar). Exit codes: 0 ok, 1 not found or failed,
 * 2 usage error. Commands get their streams and environment from a {@link CliIo}, so tests run them in-process.
 */
@Command(name = "weft", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Service discovery and overlay networking for container hosts.",
        subcommands = {AgentCommand.class, KvCommand.class, MembersCommand.class, OperatorCommand.class,
                SnapshotCommand.class, VersionCommand.class, CatalogCommand.class, ServicesCommand.class,
                NetworkCommand.class, LeaveCommand.class, AclCommand.class, ReloadCommand.class, TlsCommand.class,
                HelpCommand.class})
public final class Main implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        quietNettyLeakDetection();
        System.exit(run(CliIo.system(), args));
    }

    /**
     * Netty's leak detector (level SIMPLE unless told otherwise) records a stack trace for one buffer in 128: at
     * 90,000 DNS queries/s that is 700 stack traces a second, about 1 % of a DNS thread's time. The weft process
     * runs without it; {@code -Dio.netty.leakDetection.level=...} (in WEFT_JAVA_OPTS) turns it back on, and the
     * tests, which do not start here, keep it.
     */
    static void quietNettyLeakDetection() {
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }

    /** Runs one command line with the given streams; returns the exit code. */
    public static int run(CliIo io, String... args) {
        CommandLine cl = new CommandLine(new Main(), new Factory(io));
        cl.setOut(io.out());
        cl.setErr(io.err());
        cl.setPosixClusteredShortOptionsAllowed(false);
        cl.setExpandAtFiles(false);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof CliFailure f) {
                io.err().println(f.getMessage());
                io.err().flush();
                return f.exitCode();
            }
            io.err().println("Error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            io.err().flush();
            return 1;
        });
        int code = cl.execute(args);
        io.out().flush();
        io.err().flush();
        return code;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** Version for {@code weft --version}. */
    public static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"weft v" + Version.version()};
        }
    }

    /** Builds commands that take a {@link CliIo} in their constructor; everything else the default way. */
    private static final class Factory implements CommandLine.IFactory {
        private final CliIo io;

        Factory(CliIo io) {
            this.io = io;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(CliIo.class);
                return c.newInstance(io);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }
}
