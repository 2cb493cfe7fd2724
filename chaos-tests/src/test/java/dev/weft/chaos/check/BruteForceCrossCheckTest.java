package dev.weft.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weft.chaos.check.Linearizability.Verdict;
import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import dev.weft.chaos.history.Operation.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random tiny histories (most of them not linearizable), checked both by {@link Linearizability} and by trying
 * every order: the verdicts must agree. This is what keeps the search's reductions (deadlines for observed
 * UNKNOWN writes, groups of interchangeable operations, greedy pure operations) honest.
 */
class BruteForceCrossCheckTest {

    private static final String[] VALUES = {"a", "b", "c"};

    @ParameterizedTest(name = "ModifyIndex CAS: {0}")
    @ValueSource(booleans = {false, true})
    void agreesWithTryingEveryOrder(boolean byIndex) {
        Random random = new Random(byIndex ? 7 : 3);
        int linearizable = 0;
        int violations = 0;
        for (int i = 0; i < 4000; i++) {
            List<Operation> ops = byIndex ? randomIndexed(random) : randomByValue(random);
            boolean expected = new BruteForce(ops).linearizable();
            Linearizability.Result r = new Linearizability().check(ops);
            assertEquals(expected ? Verdict.LINEARIZABLE : Verdict.VIOLATION, r.verdict(),
                    () -> "history:\n" + String.join("\n", ops.stream().map(Operation::toString).toList())
                            + "\n" + r.describe());
            if (expected) {
                linearizable++;
            } else {
                violations++;
            }
        }
        assertTrue(linearizable > 400 && violations > 400, linearizable + " / " + violations);
    }

    private static Outcome outcome(Random random) {
        int r = random.nextInt(10);
        return r < 6 ? Outcome.OK : r < 9 ? Outcome.UNKNOWN : Outcome.FAIL;
    }

    private static List<Operation> randomByValue(Random random) {
        int n = 1 + random.nextInt(7);
        List<Operation> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long invoke = random.nextInt(15);
            long complete = invoke + random.nextInt(10);
            Outcome outcome = outcome(random);
            String v = VALUES[random.nextInt(VALUES.length)];
            String maybe = random.nextInt(4) == 0 ? null : VALUES[random.nextInt(VALUES.length)];
            Operation op = switch (random.nextInt(3)) {
                case 0 -> new Operation(i, i, null, Kind.READ, "x", maybe, null, null, null, null, invoke,
                        complete, outcome);
                case 1 -> new Operation(i, i, null, Kind.WRITE, "x", v, null, null, null, null, invoke, complete,
                        outcome);
                default -> new Operation(i, i, null, Kind.CAS, "x", v, maybe, null,
                        outcome == Outcome.OK ? random.nextBoolean() : null, null, invoke, complete, outcome);
            };
            ops.add(op);
        }
        return ops;
    }

    /** Unique written values; each has one ModifyIndex (random, so write order and index order may disagree). */
    private static List<Operation> randomIndexed(Random random) {
        int n = 1 + random.nextInt(7);
        Map<String, Long> index = new HashMap<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("v" + i);
            index.put("v" + i, 1L + random.nextInt(9) * 10L + i);
        }
        List<Operation> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long invoke = random.nextInt(15);
            long complete = invoke + random.nextInt(10);
            Outcome outcome = outcome(random);
            String seen = random.nextInt(4) == 0 ? null : names.get(random.nextInt(n));
            Long seenIndex = seen == null ? null : index.get(seen);
            Operation op = switch (random.nextInt(3)) {
                case 0 -> new Operation(i, i, null, Kind.READ, "x", seen, null, seenIndex, null, null, invoke,
                        complete, outcome);
                case 1 -> new Operation(i, i, null, Kind.WRITE, "x", "v" + i, null, null, null, null, invoke,
                        complete, outcome);
                default -> new Operation(i, i, null, Kind.CAS, "x", "v" + i, seen, seen == null ? 0L : seenIndex,
                        outcome == Outcome.OK ? random.nextBoolean() : null, null, invoke, complete, outcome);
            };
            ops.add(op);
        }
        return ops;
    }

    /** Tries every order that respects real time; the same register semantics, written plainly. */
    private static final class BruteForce {
        private final List<Operation> ops = new ArrayList<>();
        private final Map<String, Long> knownIndex = new HashMap<>();

        BruteForce(List<Operation> history) {
            for (Operation op : history) {
                boolean keep = op.kind() == Kind.READ ? op.isOk() : op.outcome() != Outcome.FAIL;
                if (keep) {
                    ops.add(op);
                    String v = op.kind() == Kind.CAS ? op.expected() : op.value();
                    if (v != null && op.modifyIndex() != null && op.modifyIndex() > 0 && op.kind() != Kind.WRITE) {
                        knownIndex.put(v, op.modifyIndex());
                    }
                }
            }
        }

        boolean linearizable() {
            return search(new boolean[ops.size()], null, 0);
        }

        private long indexOf(String value) {
            return value == null ? 0 : knownIndex.getOrDefault(value, -1L);
        }

        private boolean search(boolean[] done, String value, long floor) {
            boolean finished = true;
            for (int i = 0; i < ops.size(); i++) {
                finished &= done[i] || ops.get(i).isUnknown();
            }
            if (finished) {
                return true;
            }
            for (int i = 0; i < ops.size(); i++) {
                if (done[i] || !mayGoNext(done, i)) {
                    continue;
                }
                Operation op = ops.get(i);
                String nextValue = value;
                long nextFloor = floor;
                boolean legal;
                switch (op.kind()) {
                    case READ -> legal = Objects.equals(value, op.value());
                    case WRITE -> {
                        long k = indexOf(op.value());
                        legal = k < 0 || k > floor;
                        nextValue = op.value();
                        nextFloor = Math.max(floor, k);
                    }
                    default -> {
                        boolean matches = op.modifyIndex() != null ? indexOf(value) == op.modifyIndex()
                                : Objects.equals(value, op.expected());
                        boolean applies = op.isUnknown() || op.applied();
                        long k = indexOf(op.value());
                        legal = applies ? matches && (k < 0 || k > floor) : !matches;
                        if (applies) {
                            nextValue = op.value();
                            nextFloor = Math.max(floor, k);
                        }
                    }
                }
                if (legal) {
                    done[i] = true;
                    boolean ok = search(done, nextValue, nextFloor);
                    done[i] = false;
                    if (ok) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** No operation with a definite outcome that completed before {@code i} was invoked is still pending. */
        private boolean mayGoNext(boolean[] done, int i) {
            for (int j = 0; j < ops.size(); j++) {
                if (j != i && !done[j] && !ops.get(j).isUnknown()
                        && ops.get(j).completeNanos() < ops.get(i).invokeNanos()) {
                    return false;
                }
            }
            return true;
        }
    }
}
