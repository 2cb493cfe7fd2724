package dev.weft.kvstore.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Guards for tests that need something from the machine (a command such as {@code dig}, root, a daemon).
 * Outside CI a missing requirement skips the test with a clear message; with {@code CI=true} it fails, so CI
 * never skips silently.
 */
public final class Requires {
    private Requires() {
    }

    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Skips (or, in CI, fails) unless {@code condition} holds. */
    public static void that(boolean condition, String what) {
        if (condition) {
            return;
        }
        String message = "requirement missing: " + what;
        if (ci()) {
            throw new AssertionError(message + " (CI=true: tests may not skip; .ci/run installs it)");
        }
        Assumptions.abort(message + " (skipped; set CI=true to make this a failure)");
    }

    /** The absolute path of an executable on PATH (or in /usr/sbin, /sbin), skipping/failing when absent. */
    public static String command(String name) {
        String path = System.getenv("PATH");
        String all = (path == null ? "" : path) + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/sbin";
        for (String dir : all.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        that(false, "command '" + name + "' on PATH");
        return null;
    }

    /** Skips (or fails in CI) unless the JVM runs as root. */
    public static void root() {
        that("root".equals(System.getProperty("user.name")), "root privileges");
    }
}
