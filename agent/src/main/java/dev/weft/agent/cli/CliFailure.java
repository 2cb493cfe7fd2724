package dev.weft.agent.cli;

/** A command failed in a way the user should see as one line on stderr, with this exit code. */
public final class CliFailure extends RuntimeException {
    private final int exitCode;

    public CliFailure(String message) {
        this(message, 1);
    }

    public CliFailure(String message, int exitCode) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
