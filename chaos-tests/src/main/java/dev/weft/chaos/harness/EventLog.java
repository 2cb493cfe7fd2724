package dev.weft.chaos.harness;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One line per harness event (faults, heals, process starts), to stdout and the run's {@code events.log}. */
public final class EventLog {
    private final Path file;
    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private final List<String> lines = new ArrayList<>();

    public EventLog(Path file, PrintStream out) {
        this.file = file;
        this.out = out;
    }

    public synchronized void log(String kind, String message) {
        String line = Instant.now() + " +" + millisSinceStart() + "ms [" + kind + "] " + message;
        lines.add(line);
        out.println(line);
        try {
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long millisSinceStart() {
        return Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
    }

    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }
}
