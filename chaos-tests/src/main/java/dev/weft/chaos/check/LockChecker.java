package dev.weft.chaos.check;

import dev.weft.chaos.history.History;
import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks that no two processes held a lock at overlapping times. A process certainly holds a lock from the
 * completion of an ACQUIRE that answered true until the invoke of its next RELEASE of that lock (whatever that
 * release's outcome), or until the end of the history when it never released it. The harness records a RELEASE
 * also when a client learns its session is gone, invoked at the last moment it still believed it held the lock.
 * ACQUIREs with an UNKNOWN outcome start no certain hold, so they are not checked.
 *
 * <p>This is sound only if a client never reuses a session after one of its requests had an UNKNOWN outcome:
 * Consul's {@code ?release=} is by session, so a release that applies late (after the client gave up on it)
 * ends a later hold of the same session. The harness's lock clients abandon the session after any UNKNOWN
 * acquire or release.
 */
public final class LockChecker {

    /** {@code release} is {@code null} for a hold still open at the end of the history. */
    public record Hold(String lock, int process, Operation acquire, Operation release, long from, long until) {
        @Override
        public String toString() {
            return "p" + process + " held " + lock + " [" + from + ".." + (release == null ? "end" : until) + "]";
        }
    }

    public record Overlap(String lock, Hold first, Hold second) {
        @Override
        public String toString() {
            return lock + ": " + first + " overlaps " + second;
        }
    }

    public record Result(boolean valid, List<Hold> holds, List<Overlap> overlaps) {
        public String describe() {
            StringBuilder b = new StringBuilder("locks: ").append(valid ? "ok" : "INVALID").append(", ")
                    .append(holds.size()).append(" holds, ").append(overlaps.size()).append(" overlaps\n");
            overlaps.forEach(o -> b.append("  ").append(o).append('\n'));
            return b.toString();
        }
    }

    private LockChecker() {
    }

    public static Result check(History history) {
        return check(history.operations());
    }

    public static Result check(List<Operation> operations) {
        long end = Long.MIN_VALUE;
        for (Operation op : operations) {
            end = Math.max(end, op.isUnknown() ? op.invokeNanos() : op.completeNanos());
        }
        Map<String, List<Operation>> byLock = new TreeMap<>();
        for (Operation op : operations) {
            if (op.kind() == Kind.ACQUIRE || op.kind() == Kind.RELEASE) {
                byLock.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        List<Hold> holds = new ArrayList<>();
        List<Overlap> overlaps = new ArrayList<>();
        for (Map.Entry<String, List<Operation>> e : byLock.entrySet()) {
            List<Hold> lockHolds = holds(e.getKey(), e.getValue(), end);
            holds.addAll(lockHolds);
            for (int i = 0; i < lockHolds.size(); i++) {
                Hold a = lockHolds.get(i);
                for (int j = i + 1; j < lockHolds.size() && lockHolds.get(j).from() < a.until(); j++) {
                    Hold b = lockHolds.get(j);
                    if (b.process() != a.process()) {
                        overlaps.add(new Overlap(e.getKey(), a, b));
                    }
                }
            }
        }
        return new Result(overlaps.isEmpty(), List.copyOf(holds), List.copyOf(overlaps));
    }

    private static List<Hold> holds(String lock, List<Operation> ops, long end) {
        List<Operation> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparingLong(Operation::invokeNanos));
        List<Hold> holds = new ArrayList<>();
        for (Operation acquire : sorted) {
            if (acquire.kind() != Kind.ACQUIRE || !acquire.isOk() || !Boolean.TRUE.equals(acquire.applied())) {
                continue;
            }
            Operation release = sorted.stream()
                    .filter(op -> op.kind() == Kind.RELEASE && op.process() == acquire.process()
                            && op.invokeNanos() >= acquire.completeNanos())
                    .findFirst()
                    .orElse(null);
            long until = release == null ? end : release.invokeNanos();
            if (until > acquire.completeNanos()) {
                holds.add(new Hold(lock, acquire.process(), acquire, release, acquire.completeNanos(), until));
            }
        }
        holds.sort(Comparator.comparingLong(Hold::from));
        return holds;
    }
}
