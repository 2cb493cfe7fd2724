package dev.weft.agent.cli;

import dev.weft.agent.RegistratorSettings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Registrator's {@code -tags} and {@code -useIpFromNetwork} as agent flags ({@code -use-ip-from-network}). */
class RegistratorFlagsTest {
    private static RegistratorSettings parse(String... args) throws java.io.IOException {
        CliIo io = new CliIo(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                new ByteArrayInputStream(new byte[0]), Map.of());
        AgentCommand cmd = new AgentCommand(io);
        new CommandLine(cmd).parseArgs(args);
        return cmd.config().discovery().registrator();
    }

    @Test
    void tagsAndNetworkAreOffByDefaultAndSetByTheFlags() throws Exception {
        Path dir = Files.createTempDirectory("weft-flag-");
        try {
            String d = dir.toString();
            RegistratorSettings none = parse("-server", "-data-dir", d);
            assertEquals(List.of(), none.tags());
            assertNull(none.useIpFromNetwork());
            RegistratorSettings set = parse("-server", "-data-dir", d, "-tags", "a,b", "--tags", "c",
                    "-use-ip-from-network", "demo");
            assertEquals(List.of("a", "b", "c"), set.tags());
            assertEquals("demo", set.useIpFromNetwork());
            assertThrows(CommandLine.ParameterException.class,
                    () -> parse("-server", "-data-dir", d, "-tags", "a,,b"));
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
