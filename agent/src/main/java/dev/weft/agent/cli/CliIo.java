package dev.weft.agent.cli;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Where a CLI run reads and writes, and the environment it sees; tests pass their own. */
public record CliIo(PrintWriter out, PrintWriter err, InputStream in, Map<String, String> env) {

    public static CliIo system() {
        return new CliIo(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true),
                new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true),
                System.in, System.getenv());
    }
}
