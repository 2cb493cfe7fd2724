package dev.weft.chaos.check;

import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The sequential specification of one Consul KV key used as a register: read, write, and compare-and-set either
 * on the value or on the ModifyIndex ({@code ?cas=N}, 0 = only if absent).
 *
 * <p>The ModifyIndex a write gets is decided by the store (its Raft log index), so the model learns it from the
 * history: every (value, ModifyIndex) pair that a read observed (or that a CAS recorded as the value it read with
 * its index). With unique written values this pins each write to one index. A value never observed with an index
 * has an unknown index, which no {@code ?cas=N} matches. Observed indexes must also grow along the
 * linearization (the Raft log order).
 */
final class RegisterModel implements LinearizationSearch.Model<RegisterModel.State> {

    /** {@code index}: 0 when absent, -1 when the current value's index was never observed. */
    record State(String value, long index, long floor) {
    }

    private static final long UNKNOWN_INDEX = -1;

    /** Stands for every value that only UNKNOWN writes nobody observed could have written. */
    private static final String UNOBSERVED = "\u0000unobserved";

    private final Map<String, Long> indexOf;
    private final Set<Operation> unobserved;

    private RegisterModel(Map<String, Long> indexOf, Set<Operation> unobserved) {
        this.indexOf = indexOf;
        this.unobserved = unobserved;
    }

    /** The operations of one key prepared for the search, or the contradiction found while preparing them. */
    record Prepared(RegisterModel model, LinearizationSearch.Task task, String contradiction,
                    List<Operation> witnesses) {
    }

    /**
     * Keeps what can matter: OK reads; OK and UNKNOWN writes and CASes (FAIL did not happen, an unanswered read
     * observed nothing). OK stale reads are not searched but their (value, ModifyIndex) pairs are used.
     *
     * <p>Then narrows the UNKNOWN writes and CASes, which otherwise multiply the search space:
     * <ul>
     *   <li>one whose value some searched operation observed, and that is the only write of that value, must
     *       have happened before the first such observer completed: it gets that deadline;</li>
     *   <li>one whose value nobody observed is dropped when no CAS of the key answered false: linearizing it could
     *       only change what a later read or CAS sees, and none sees it;</li>
     *   <li>otherwise (only a refused CAS could need it) its value is replaced by one "unobserved" value, so that
     *       all such writes, and all such CASes with the same precondition, have the same effect; and it need only
     *       be tried right before a refused CAS, the one thing that state allows without changing it.</li>
     * </ul>
     */
    static Prepared prepare(List<Operation> keyOps) {
        keyOps = new ArrayList<>(keyOps);
        keyOps.sort(Comparator.comparingLong(Operation::invokeNanos).thenComparingLong(Operation::id));
        List<Operation> kept = new ArrayList<>();
        List<Operation> evidence = new ArrayList<>();
        boolean indexed = false;
        boolean refusedCas = false;
        for (Operation op : keyOps) {
            switch (op.kind()) {
                case READ -> {
                    if (op.isOk()) {
                        kept.add(op);
                        evidence.add(op);
                    }
                }
                case STALE_READ -> {
                    if (op.isOk()) {
                        evidence.add(op);
                    }
                }
                case WRITE, CAS -> {
                    if (op.value() == null) {
                        throw new IllegalArgumentException("write without a value: " + op);
                    }
                    if (op.kind() == Kind.CAS && op.isOk() && op.applied() == null) {
                        throw new IllegalArgumentException("CAS answered OK without true/false: " + op);
                    }
                    if (op.outcome() != Operation.Outcome.FAIL) {
                        kept.add(op);
                        evidence.add(op);
                        refusedCas |= op.kind() == Kind.CAS && op.isOk() && !op.applied();
                    }
                }
                default -> throw new IllegalArgumentException("not a register operation: " + op);
            }
            indexed |= op.modifyIndex() != null;
        }

        Map<String, Long> indexOf = new HashMap<>();
        Map<Long, String> valueAt = new HashMap<>();
        if (indexed) {
            Set<String> written = new HashSet<>();
            for (Operation op : kept) {
                if (op.kind() != Kind.READ && !written.add(op.value())) {
                    throw new IllegalArgumentException("with ModifyIndexes recorded, written values must be unique"
                            + " per key; written twice: " + op);
                }
            }
            Map<String, Operation> witness = new HashMap<>();
            for (Operation op : evidence) {
                // A read's value, the value a CAS read together with its index, a write's own value.
                String value = op.kind() == Kind.CAS ? op.expected() : op.value();
                Long index = op.modifyIndex();
                if (value == null || index == null || index == 0) {
                    continue;
                }
                Long before = indexOf.putIfAbsent(value, index);
                if (before != null && before.longValue() != index) {
                    return contradiction("value \"" + value + "\" observed with ModifyIndex " + before + " and "
                            + index, witness.get(value), op);
                }
                String other = valueAt.putIfAbsent(index, value);
                if (other != null && !other.equals(value)) {
                    return contradiction("ModifyIndex " + index + " observed with values \"" + other + "\" and \""
                            + value + "\"", witness.get(other), op);
                }
                witness.putIfAbsent(value, op);
            }
        }

        // Who observed which value, and by when.
        Map<String, Long> firstObserved = new HashMap<>();
        Map<String, Integer> writers = new HashMap<>();
        for (Operation op : kept) {
            String seen = switch (op.kind()) {
                case READ -> op.value();
                case CAS -> !op.isOk() || !op.applied() ? null
                        : op.modifyIndex() == null ? op.expected() : valueAt.get(op.modifyIndex());
                default -> null;
            };
            if (seen != null) {
                firstObserved.merge(seen, op.completeNanos(), Math::min);
            }
            if (op.kind() != Kind.READ) {
                writers.merge(op.value(), 1, Integer::sum);
            }
        }
        Set<String> mentioned = new HashSet<>(firstObserved.keySet());
        for (Operation op : kept) {
            if (op.kind() == Kind.CAS && op.expected() != null) {
                mentioned.add(op.expected());
            }
        }

        List<Operation> ops = new ArrayList<>();
        List<Long> deadlines = new ArrayList<>();
        List<Integer> sameEffect = new ArrayList<>();
        Map<String, Integer> effectClasses = new HashMap<>();
        Set<Operation> unobserved = new HashSet<>();
        for (Operation op : kept) {
            long deadline = op.completeNanos();
            int effect = -1;
            if (op.isUnknown()) {
                deadline = LinearizationSearch.NEVER;
                Long observedBy = firstObserved.get(op.value());
                if (observedBy != null && writers.get(op.value()) == 1) {
                    // Observed before its invoke means no linearization exists; the search will say so.
                    deadline = Math.max(observedBy, op.invokeNanos());
                } else if (!mentioned.contains(op.value()) && !indexOf.containsKey(op.value())) {
                    if (!refusedCas) {
                        continue;
                    }
                    unobserved.add(op);
                    String precondition = op.kind() == Kind.WRITE ? "write"
                            : op.modifyIndex() != null ? "cas index " + op.modifyIndex()
                            : "cas value " + (op.expected() == null ? "absent" : "\"" + op.expected());
                    effect = effectClasses.computeIfAbsent(precondition, k -> effectClasses.size());
                }
            }
            ops.add(op);
            deadlines.add(deadline);
            sameEffect.add(effect);
        }
        boolean[] onlyBeforePure = new boolean[ops.size()];
        for (int i = 0; i < ops.size(); i++) {
            onlyBeforePure[i] = unobserved.contains(ops.get(i));
        }
        LinearizationSearch.Task task = new LinearizationSearch.Task(List.copyOf(ops),
                deadlines.stream().mapToLong(Long::longValue).toArray(),
                sameEffect.stream().mapToInt(Integer::intValue).toArray(), onlyBeforePure);
        return new Prepared(new RegisterModel(Map.copyOf(indexOf), unobserved), task, null, List.of());
    }

    private static Prepared contradiction(String why, Operation a, Operation b) {
        return new Prepared(null, null, why, List.of(a, b));
    }

    @Override
    public State initial() {
        return new State(null, 0, 0);
    }

    @Override
    public State step(State s, Operation op) {
        return switch (op.kind()) {
            case READ -> Objects.equals(s.value(), op.value())
                    && (op.value() == null || op.modifyIndex() == null || s.index() < 0
                        || s.index() == op.modifyIndex()) ? s : null;
            case WRITE -> put(s, op);
            case CAS -> {
                boolean matches = op.modifyIndex() != null
                        ? s.index() == op.modifyIndex()
                        : Objects.equals(s.value(), op.expected());
                if (op.isUnknown() || op.applied()) {
                    yield matches ? put(s, op) : null;
                }
                yield matches ? null : s;
            }
            default -> null;
        };
    }

    private State put(State s, Operation op) {
        String value = unobserved.contains(op) ? UNOBSERVED : op.value();
        Long known = indexOf.get(value);
        if (known == null) {
            return new State(value, UNKNOWN_INDEX, s.floor());
        }
        return known > s.floor() ? new State(value, known, known) : null;
    }

    @Override
    public boolean readOnly(Operation op) {
        return op.kind() == Kind.READ || op.kind() == Kind.CAS && op.isOk() && !op.applied();
    }

    /** A CAS applies only where the value (or ModifyIndex) it expects is current. */
    @Override
    public Object guard(Operation op) {
        if (op.kind() != Kind.CAS) {
            return null;
        }
        return op.modifyIndex() != null ? (Object) op.modifyIndex() : new Expected(op.expected());
    }

    @Override
    public List<Object> guards(State s) {
        return List.of(s.index(), new Expected(s.value()));
    }

    private record Expected(String value) {
    }

    @Override
    public String describe(State s) {
        if (s.value() == null) {
            return "absent";
        }
        if (s.value().equals(UNOBSERVED)) {
            return "the value of an UNKNOWN write nobody read";
        }
        return "\"" + s.value() + "\"" + (s.index() > 0 ? " (ModifyIndex " + s.index() + ")" : "");
    }
}
