package dev.weft.agent.checks;

import dev.weft.kvstore.state.HealthStatus;

import java.util.ArrayList;
import java.util.List;

/** A {@link HealthChecks.Listener} that keeps every update, in arrival order, for the test to inspect. */
final class Updates implements HealthChecks.Listener {
    record Update(String checkId, HealthStatus status, String output, long nanos) {
    }

    private final List<Update> all = new ArrayList<>();

    @Override
    public synchronized void update(String checkId, HealthStatus status, String output) {
        all.add(new Update(checkId, status, output, System.nanoTime()));
    }

    synchronized List<Update> of(String checkId) {
        List<Update> out = new ArrayList<>();
        for (Update u : all) {
            if (u.checkId().equals(checkId)) {
                out.add(u);
            }
        }
        return out;
    }

    synchronized int count(String checkId) {
        return of(checkId).size();
    }

    /** The latest update of the check, or null. */
    synchronized Update last(String checkId) {
        List<Update> l = of(checkId);
        return l.isEmpty() ? null : l.get(l.size() - 1);
    }

    /** The first update of the check, or null. */
    synchronized Update first(String checkId) {
        List<Update> l = of(checkId);
        return l.isEmpty() ? null : l.get(0);
    }

    synchronized String describe(String checkId) {
        return checkId + " updates: " + of(checkId);
    }
}
