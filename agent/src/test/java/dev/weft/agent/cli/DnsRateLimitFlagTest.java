package dev.weft.agent.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code weft agent -dns-rate-limit QPS}: off by default, a number of answers per second, else a usage error. */
class DnsRateLimitFlagTest {
    private static AgentCommand parse(String... args) {
        CliIo io = new CliIo(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                new ByteArrayInputStream(new byte[0]), Map.of());
        AgentCommand cmd = new AgentCommand(io);
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    @Test
    void offByDefaultAndSetByTheFlag() throws Exception {
        Path dir = Files.createTempDirectory("weft-flag-");
        try {
            String d = dir.toString();
            assertEquals(0.0, parse("-server", "-data-dir", d).config().discovery().dnsRateLimit());
            assertEquals(50.0, parse("-server", "-data-dir", d, "-dns-rate-limit", "50").config().discovery()
                    .dnsRateLimit());
            assertEquals(0.5, parse("-server", "-data-dir", d, "--dns-rate-limit", "0.5").config().discovery()
                    .dnsRateLimit());
            CommandLine.ParameterException negative = assertThrows(CommandLine.ParameterException.class,
                    () -> parse("-server", "-data-dir", d, "-dns-rate-limit", "-1").config());
            assertTrue(negative.getMessage().contains("dns-rate-limit"), negative.getMessage());
            assertThrows(CommandLine.ParameterException.class, () -> parse("-dns-rate-limit", "lots"));
        } finally {
            Files.deleteIfExists(dir);
        }
    }
}
