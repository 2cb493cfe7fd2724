package dev.weft.chaos.harness;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The processes this harness started and has not stopped yet. When the harness JVM exits (normally, or on
 * SIGTERM/SIGINT), a shutdown hook kills them by PID, so a run cut short leaves no member or proxy behind.
 */
final class Children {
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "chaos-children-cleanup"));
    }

    private Children() {
    }

    static Process track(Process p) {
        LIVE.add(p);
        p.onExit().thenRun(() -> LIVE.remove(p));
        return p;
    }
}
