package dev.weft.chaos.check;

import dev.weft.chaos.history.History;
import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks the set workload: clients ADD unique elements to a set (the operation's key) and a last READ_ALL reads
 * every element. Against that final read (the OK READ_ALL invoked last):
 * <ul>
 *   <li>lost: an add acknowledged before the final read was invoked is missing;</li>
 *   <li>unexpected: an element nobody added, an add that definitely FAILed, or one invoked only after the final
 *       read had completed, is present;</li>
 *   <li>recovered (information): an add with an UNKNOWN outcome is present. Adds acknowledged while the final read
 *       was running may or may not be present.</li>
 * </ul>
 */
public final class SetChecker {

    /** One set's verdict; {@code note} explains an invalid result that has no final read. */
    public record Result(String set, boolean valid, Operation finalRead, int acknowledged, Set<String> lost,
                         Set<String> unexpected, Set<String> recovered, String note) {

        public String describe() {
            if (finalRead == null) {
                return "set " + set + ": " + note;
            }
            return "set " + set + ": " + (valid ? "ok" : "INVALID") + ", " + acknowledged + " acknowledged adds, "
                    + lost.size() + " lost " + lost + ", " + unexpected.size() + " unexpected " + unexpected + ", "
                    + recovered.size() + " unknown adds present";
        }
    }

    private SetChecker() {
    }

    public static List<Result> check(History history) {
        return check(history.operations());
    }

    /** One result per set (key) that has ADD or READ_ALL operations, ordered by key. */
    public static List<Result> check(List<Operation> operations) {
        Map<String, List<Operation>> bySet = new TreeMap<>();
        for (Operation op : operations) {
            if (op.kind() == Kind.ADD || op.kind() == Kind.READ_ALL) {
                bySet.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        List<Result> results = new ArrayList<>();
        bySet.forEach((set, ops) -> results.add(checkSet(set, ops)));
        return List.copyOf(results);
    }

    public static boolean allValid(List<Result> results) {
        return results.stream().allMatch(Result::valid);
    }

    private static Result checkSet(String set, List<Operation> ops) {
        Operation finalRead = ops.stream()
                .filter(op -> op.kind() == Kind.READ_ALL && op.isOk())
                .max(Comparator.comparingLong(Operation::invokeNanos))
                .orElse(null);
        if (finalRead == null) {
            return new Result(set, false, null, 0, Set.of(), Set.of(), Set.of(), "no successful final read");
        }
        Set<String> present = new HashSet<>(finalRead.values());
        Set<String> attempted = new HashSet<>();
        Set<String> lost = new TreeSet<>();
        Set<String> unexpected = new TreeSet<>();
        Set<String> recovered = new TreeSet<>();
        int acknowledged = 0;
        for (Operation add : ops) {
            if (add.kind() == Kind.ADD && add.outcome() != Operation.Outcome.FAIL) {
                attempted.add(add.value());
            }
        }
        for (Operation add : ops) {
            if (add.kind() != Kind.ADD) {
                continue;
            }
            String element = add.value();
            boolean isPresent = present.contains(element);
            if (isPresent && add.invokeNanos() > finalRead.completeNanos()) {
                unexpected.add(element);
            } else if (add.isOk()) {
                acknowledged++;
                if (!isPresent && add.completeNanos() < finalRead.invokeNanos()) {
                    lost.add(element);
                }
            } else if (add.isUnknown() && isPresent) {
                recovered.add(element);
            }
        }
        // Includes elements whose only adds definitely FAILed.
        for (String element : present) {
            if (!attempted.contains(element)) {
                unexpected.add(element);
            }
        }
        boolean valid = lost.isEmpty() && unexpected.isEmpty();
        return new Result(set, valid, finalRead, acknowledged, Collections.unmodifiableSet(lost),
                Collections.unmodifiableSet(unexpected), Collections.unmodifiableSet(recovered), null);
    }
}
