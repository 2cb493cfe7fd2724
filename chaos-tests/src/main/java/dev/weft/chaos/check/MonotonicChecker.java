package dev.weft.chaos.check;

import dev.weft.chaos.history.History;
import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Checks that observed indexes never go backwards: for READ and STALE_READ operations with a recorded
 * {@code modifyIndex} (a key's ModifyIndex, or the X-Consul-Index a blocking query returned), grouped by member
 * (or by process) and key, an operation invoked after another one completed must not observe a smaller index.
 * Operations that overlap in time may observe their indexes in either order.
 *
 * <p>This is what {@code ?stale} reads promise (a member's view only moves forward); {@link #perProcess} is the
 * check for blocking-query watchers, each of which is one process.
 */
public final class MonotonicChecker {

    /** {@code later} was invoked after {@code earlier} completed and saw a smaller index. */
    public record Regression(String group, String key, Operation earlier, Operation later) {
        @Override
        public String toString() {
            return group + " " + key + ": index " + earlier.modifyIndex() + " then " + later.modifyIndex()
                    + "\n    " + earlier + "\n    " + later;
        }
    }

    public record Result(boolean valid, int observations, List<Regression> regressions) {
        public String describe() {
            StringBuilder b = new StringBuilder("monotonic indexes: ").append(valid ? "ok" : "INVALID").append(", ")
                    .append(observations).append(" observations, ").append(regressions.size())
                    .append(" regressions\n");
            regressions.forEach(r -> b.append("  ").append(r).append('\n'));
            return b.toString();
        }
    }

    private MonotonicChecker() {
    }

    /** Groups by the member that answered; operations without a member are not checked. */
    public static Result perMember(History history) {
        return perMember(history.operations());
    }

    public static Result perMember(List<Operation> operations) {
        return check(operations, Operation::member);
    }

    /** Groups by the client process (one watcher is one process). */
    public static Result perProcess(History history) {
        return perProcess(history.operations());
    }

    public static Result perProcess(List<Operation> operations) {
        return check(operations, op -> "p" + op.process());
    }

    private static Result check(List<Operation> operations, Function<Operation, String> groupOf) {
        record Group(String group, String key) {
        }
        Map<Group, List<Operation>> groups = new TreeMap<>(
                Comparator.comparing(Group::group).thenComparing(Group::key));
        int observations = 0;
        for (Operation op : operations) {
            if ((op.kind() == Kind.READ || op.kind() == Kind.STALE_READ) && op.isOk()
                    && op.modifyIndex() != null && groupOf.apply(op) != null) {
                groups.computeIfAbsent(new Group(groupOf.apply(op), op.key()), g -> new ArrayList<>()).add(op);
                observations++;
            }
        }
        List<Regression> regressions = new ArrayList<>();
        groups.forEach((g, ops) -> {
            List<Operation> byInvoke = new ArrayList<>(ops);
            byInvoke.sort(Comparator.comparingLong(Operation::invokeNanos));
            List<Operation> byComplete = new ArrayList<>(ops);
            byComplete.sort(Comparator.comparingLong(Operation::completeNanos));
            Operation highest = null;
            int done = 0;
            for (Operation later : byInvoke) {
                while (done < byComplete.size() && byComplete.get(done).completeNanos() < later.invokeNanos()) {
                    Operation c = byComplete.get(done++);
                    if (highest == null || c.modifyIndex() > highest.modifyIndex()) {
                        highest = c;
                    }
                }
                if (highest != null && later.modifyIndex() < highest.modifyIndex()) {
                    regressions.add(new Regression(g.group(), g.key(), highest, later));
                }
            }
        });
        return new Result(regressions.isEmpty(), observations, List.copyOf(regressions));
    }
}
