package dev.weft.chaos.check;

import dev.weft.chaos.check.Linearizability.Verdict;
import dev.weft.chaos.history.Operation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The Wing–Gong search with Lowe's just-in-time linearization and Porcupine's memoization of (set of
 * linearized operations, model state), over the operations of one key.
 *
 * <p>Operations that must take effect become call and return entries of one doubly linked list, ordered by time
 * (at equal times calls come first, so touching operations count as concurrent). A return entry sits at the
 * operation's deadline: its completion, or an earlier time the caller knows it must have happened by. The search
 * walks the list: at a call it tries to linearize that operation now (the model must accept it and the pair
 * (linearized set, new state) must not have been seen before), lifts its entries out of the list and starts
 * again at the head. Reaching a return means that operation should already have been linearized: the
 * operations that may never take effect (UNKNOWN outcome, no deadline) are tried there, those invoked by then,
 * and when none helps the search backtracks. The history is linearizable once every operation that must take
 * effect has been linearized.
 *
 * <p>Two reductions keep the search small. A read-only operation (a read, a refused CAS) that is legal where it
 * stands is linearized without trying alternatives: a linearization that places it later stays valid with it
 * moved here. (Not so for an operation that merely changes nothing here, such as writing the current value.) Operations that may never take effect are kept out of the list, in groups:
 * the members of a group have the same effect (the caller says which; every other such operation is a group of
 * its own) and are only tried in the order of their invokes, since which one of them took effect cannot matter.
 * Those the caller marks as only useful right before a read-only operation (a write nobody read can only explain
 * a refused CAS) must be followed by one at once.
 */
final class LinearizationSearch {

    /** A deterministic sequential specification; {@code step} returns {@code null} when {@code op} is illegal. */
    interface Model<S> {
        S initial();

        S step(S state, Operation op);

        String describe(S state);

        /**
         * {@code null} when {@code op} may apply in any state; otherwise a key such that {@code op} can only
         * apply in states whose {@link #guards} contain it. Lets the search skip operations that cannot apply.
         */
        /** Whether {@code op} never changes the state where it is legal (a read, a refused CAS). */
        boolean readOnly(Operation op);

        default Object guard(Operation op) {
            return null;
        }

        default List<Object> guards(S state) {
            return List.of();
        }
    }

    /** What the search found; prefix, state and unplaced operations explain a violation. */
    record Found(Verdict verdict, long steps, List<Operation> longestPrefix, String stateAfterPrefix,
                 List<Operation> unplaced) {
    }

    static final long NEVER = Long.MAX_VALUE;

    private static final class Entry {
        final int op;
        final boolean call;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int op, boolean call) {
            this.op = op;
            this.call = call;
        }
    }

    /**
     * The operations of one key to search. {@code deadlines}: per operation, the time by which it must be
     * linearized (its completion, or earlier when known), {@link #NEVER} when it may never take effect.
     * {@code sameEffect}: per operation without a deadline, -1 or a class of operations with the same effect.
     * {@code onlyBeforePure}: operations without a deadline that are only worth linearizing right before a
     * read-only operation (the caller knows that nothing else could observe them).
     */
    record Task(List<Operation> ops, long[] deadlines, int[] sameEffect, boolean[] onlyBeforePure) {
    }

    /**
     * A visited configuration: the set of linearized operations (as bit positions that put the operations that
     * must take effect first, in invoke order, so the set is mostly a dense prefix: stored as its length and the
     * words after it), the model state, and {@code pureOnly}: the last operation was one of
     * {@link Task#onlyBeforePure}, so the next must be read-only.
     */
    private static final class Memo {
        private final int dense;
        private final long[] rest;
        private final Object state;
        private final boolean pureOnly;
        private final int hash;

        Memo(BitSet linearized, Object state, boolean pureOnly) {
            this.dense = linearized.nextClearBit(0);
            this.rest = linearized.get(dense, Math.max(dense, linearized.length())).toLongArray();
            this.state = state;
            this.pureOnly = pureOnly;
            this.hash = ((dense * 31 + Arrays.hashCode(rest)) * 31 + state.hashCode()) * 2 + (pureOnly ? 1 : 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Memo m && m.hash == hash && m.dense == dense && m.pureOnly == pureOnly
                    && Arrays.equals(m.rest, rest) && m.state.equals(state);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private LinearizationSearch() {
    }

    static <S> Found run(Task task, Model<S> model, long maxSteps, BooleanSupplier outOfTime) {
        List<Operation> ops = task.ops();
        long[] deadlines = task.deadlines();
        int[] sameEffect = task.sameEffect();
        boolean[] onlyBeforePure = task.onlyBeforePure();
        int n = ops.size();
        int[][] groups = groups(ops, deadlines, sameEffect);
        int[] used = new int[groups.length];
        List<Integer> unguarded = new ArrayList<>();
        Map<Object, List<Integer>> guarded = new HashMap<>();
        for (int g = 0; g < groups.length; g++) {
            Object guard = model.guard(ops.get(groups[g][0]));
            if (guard == null) {
                unguarded.add(g);
            } else {
                guarded.computeIfAbsent(guard, k -> new ArrayList<>()).add(g);
            }
        }
        Entry head = buildList(ops, deadlines);
        int remaining = 0;
        for (long d : deadlines) {
            if (d != NEVER) {
                remaining++;
            }
        }

        int[] bit = new int[n];
        int position = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < n; i++) {
                if ((deadlines[i] != NEVER) == (pass == 0)) {
                    bit[i] = position++;
                }
            }
        }
        BitSet linearized = new BitSet(n);
        Set<Memo> seen = new HashSet<>();
        // One frame per linearized operation: the list entry it came from (its call, or for a group member the
        // return entry where it was tried), its group or -1 and position among the candidates there, the state
        // before it, and whether it was forced.
        int[] stackOp = new int[n];
        Entry[] stackEntry = new Entry[n];
        int[] stackGroup = new int[n];
        int[] stackCursor = new int[n];
        Object[] stackState = new Object[n];
        boolean[] stackForced = new boolean[n];
        int depth = 0;
        int[] best = new int[0];

        S state = model.initial();
        Entry entry = head.next;
        int groupCursor = 0;
        long steps = 0;
        while (remaining > 0) {
            steps++;
            if (steps > maxSteps || ((steps & 1023) == 0 && outOfTime.getAsBoolean())) {
                if (depth > best.length) {
                    best = Arrays.copyOf(stackOp, depth);
                }
                return explain(ops, deadlines, model, best, Verdict.UNKNOWN, steps);
            }
            boolean pureOnly = depth > 0 && onlyBeforePure[stackOp[depth - 1]];
            int op = -1;
            int group = -1;
            int cursor = 0;
            boolean forced = false;
            S next = null;
            if (entry.call) {
                next = model.step(state, ops.get(entry.op));
                boolean readOnly = model.readOnly(ops.get(entry.op));
                if (next != null && (!pureOnly || readOnly)) {
                    forced = readOnly;
                    linearized.set(bit[entry.op]);
                    boolean fresh = seen.add(new Memo(linearized, next, false));
                    linearized.clear(bit[entry.op]);
                    if (fresh) {
                        op = entry.op;
                    } else if (!forced) {
                        entry = entry.next;
                        continue;
                    }
                    // else: an operation that can go first led to a state already explored, so this one fails.
                } else {
                    entry = entry.next;
                    continue;
                }
            } else {
                long limit = entry.op >= 0 ? deadlines[entry.op] : NEVER;
                List<Integer> candidates = pureOnly ? List.of() : candidates(unguarded, guarded, model.guards(state));
                for (; groupCursor < candidates.size() && op < 0; groupCursor++) {
                    int g = candidates.get(groupCursor);
                    if (used[g] == groups[g].length || ops.get(groups[g][used[g]]).invokeNanos() > limit) {
                        continue;
                    }
                    steps++;
                    int candidate = groups[g][used[g]];
                    next = model.step(state, ops.get(candidate));
                    if (next == null || next.equals(state)) {
                        continue;
                    }
                    linearized.set(bit[candidate]);
                    boolean fresh = seen.add(new Memo(linearized, next, onlyBeforePure[candidate]));
                    linearized.clear(bit[candidate]);
                    if (fresh) {
                        op = candidate;
                        group = g;
                        cursor = groupCursor;
                    }
                }
            }

            if (op >= 0) {
                stackOp[depth] = op;
                stackEntry[depth] = entry;
                stackGroup[depth] = group;
                stackCursor[depth] = cursor;
                stackState[depth] = state;
                stackForced[depth] = forced;
                depth++;
                state = next;
                linearized.set(bit[op]);
                if (group >= 0) {
                    used[group]++;
                } else {
                    lift(entry);
                    remaining--;
                }
                entry = head.next;
                groupCursor = 0;
                continue;
            }

            // Backtrack: undo forced frames and the frame before them; resume after the undone alternative.
            if (depth > best.length) {
                best = Arrays.copyOf(stackOp, depth);
            }
            boolean again;
            do {
                if (depth == 0) {
                    return explain(ops, deadlines, model, best, Verdict.VIOLATION, steps);
                }
                depth--;
                @SuppressWarnings("unchecked")
                S previous = (S) stackState[depth];
                state = previous;
                linearized.clear(bit[stackOp[depth]]);
                entry = stackEntry[depth];
                again = stackForced[depth];
                if (stackGroup[depth] >= 0) {
                    used[stackGroup[depth]]--;
                    groupCursor = stackCursor[depth] + 1;
                } else {
                    unlift(entry);
                    remaining++;
                    entry = entry.next;
                    groupCursor = 0;
                }
            } while (again);
        }
        return new Found(Verdict.LINEARIZABLE, steps, List.of(), model.describe(state), List.of());
    }

    private static List<Integer> candidates(List<Integer> unguarded, Map<Object, List<Integer>> guarded,
                                            List<Object> enabled) {
        if (guarded.isEmpty()) {
            return unguarded;
        }
        List<Integer> all = new ArrayList<>(unguarded);
        for (Object guard : enabled) {
            all.addAll(guarded.getOrDefault(guard, List.of()));
        }
        return all;
    }

    /** The operations without a deadline, by class of equal effect, each class in the order of invokes. */
    private static int[][] groups(List<Operation> ops, long[] deadlines, int[] sameEffect) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            if (deadlines[i] == NEVER) {
                order.add(i);
            }
        }
        order.sort(Comparator.<Integer>comparingLong(i -> ops.get(i).invokeNanos()).thenComparingInt(i -> i));
        Map<Integer, List<Integer>> byClass = new LinkedHashMap<>();
        List<List<Integer>> groups = new ArrayList<>();
        for (int i : order) {
            if (sameEffect[i] >= 0) {
                List<Integer> g = byClass.get(sameEffect[i]);
                if (g == null) {
                    g = new ArrayList<>();
                    byClass.put(sameEffect[i], g);
                    groups.add(g);
                }
                g.add(i);
            } else {
                groups.add(new ArrayList<>(List.of(i)));
            }
        }
        return groups.stream().map(g -> g.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
    }

    private static Entry buildList(List<Operation> ops, long[] deadlines) {
        record Event(long time, boolean call, int op) {
        }
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            if (deadlines[i] != NEVER) {
                events.add(new Event(op.invokeNanos(), true, i));
                events.add(new Event(deadlines[i], false, i));
            }
        }
        events.sort(Comparator.comparingLong(Event::time)
                .thenComparing(e -> !e.call())
                .thenComparingInt(Event::op));
        Entry head = new Entry(-1, false);
        Entry tail = head;
        Entry[] calls = new Entry[ops.size()];
        for (Event e : events) {
            Entry x = new Entry(e.op(), e.call());
            if (e.call()) {
                calls[e.op()] = x;
            } else {
                calls[e.op()].match = x;
            }
            x.prev = tail;
            tail.next = x;
            tail = x;
        }
        // A sentinel return entry that is never lifted.
        Entry end = new Entry(-1, false);
        end.prev = tail;
        tail.next = end;
        return head;
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        call.next.prev = call.prev;
        Entry ret = call.match;
        if (ret != null) {
            ret.prev.next = ret.next;
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        if (ret != null) {
            ret.prev.next = ret;
            ret.next.prev = ret;
        }
        call.prev.next = call;
        call.next.prev = call;
    }

    /**
     * Replays the longest linearizable prefix found and lists the operations that had to come next: every
     * operation with a definite outcome outside the prefix that was invoked before the earliest of their
     * completions.
     */
    private static <S> Found explain(List<Operation> ops, long[] deadlines, Model<S> model, int[] best,
                                     Verdict verdict, long steps) {
        S state = model.initial();
        BitSet in = new BitSet(ops.size());
        List<Operation> prefix = new ArrayList<>(best.length);
        for (int i : best) {
            Operation op = ops.get(i);
            state = model.step(state, op);
            in.set(i);
            prefix.add(op);
        }
        long firstReturn = Long.MAX_VALUE;
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            if (!in.get(i) && deadlines[i] != NEVER) {
                firstReturn = Math.min(firstReturn, deadlines[i]);
            }
        }
        List<Operation> unplaced = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            if (!in.get(i) && deadlines[i] != NEVER && op.invokeNanos() <= firstReturn) {
                unplaced.add(op);
            }
        }
        unplaced.sort(Comparator.comparingLong(Operation::invokeNanos));
        return new Found(verdict, steps, List.copyOf(prefix), model.describe(state), List.copyOf(unplaced));
    }
}
