package dev.weft.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weft.chaos.check.Linearizability.Budget;
import dev.weft.chaos.check.Linearizability.Result;
import dev.weft.chaos.check.Linearizability.Verdict;
import dev.weft.chaos.check.Linearizability.Violation;
import dev.weft.chaos.history.Operation;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LinearizabilityTest {

    static Stream<Arguments> linearizable() {
        return Stream.of(
                Arguments.of("write then read", """
                        p1 w(x,a) 0 10
                        p2 r(x,a) 20 30"""),
                Arguments.of("read absent before the first write", """
                        p1 r(x,_) 0 5
                        p1 w(x,a) 10 20
                        p2 r(x,a) 30 40"""),
                Arguments.of("read overlapping a write sees the new value before the write returns", """
                        p1 w(x,a) 0 10
                        p2 r(x,a) 2 5
                        p3 r(x,a) 6 8"""),
                Arguments.of("read overlapping a write sees the old value", """
                        p1 w(x,a) 0 10
                        p1 w(x,b) 20 40
                        p2 r(x,a) 25 30
                        p2 r(x,b) 45 50"""),
                Arguments.of("concurrent writes take effect in either order", """
                        p1 w(x,a) 0 10
                        p2 w(x,b) 0 10
                        p3 r(x,b) 1 9
                        p3 r(x,a) 20 30"""),
                Arguments.of("operations that touch count as concurrent", """
                        p1 w(x,a) 0 10
                        p2 r(x,_) 10 20"""),
                Arguments.of("UNKNOWN write that happened", """
                        p1 w(x,a) 0 10
                        p2 w(x,b) 20 ?
                        p3 r(x,b) 100 110"""),
                Arguments.of("UNKNOWN write that never happened", """
                        p1 w(x,a) 0 10
                        p2 w(x,b) 20 ?
                        p3 r(x,a) 100 110
                        p3 r(x,a) 120 130"""),
                Arguments.of("UNKNOWN write taking effect long after the client gave up", """
                        p2 w(x,b) 5 ?
                        p1 w(x,a) 10 20
                        p3 r(x,a) 30 40
                        p3 r(x,b) 50 60"""),
                Arguments.of("FAIL write is removed", """
                        p1 w(x,a) 0 10
                        p2 w(x,b) 20 !30
                        p3 r(x,a) 40 50"""),
                Arguments.of("CAS chain on values", """
                        p1 w(x,0) 0 10
                        p1 cas(x,0,1)=t 20 30
                        p2 cas(x,1,2)=t 40 50
                        p3 cas(x,1,3)=f 60 70
                        p3 r(x,2) 80 90"""),
                Arguments.of("CAS on an absent key", """
                        p1 cas(x,_,a)=t 0 10
                        p2 cas(x,_,b)=f 20 30
                        p2 r(x,a) 40 50"""),
                Arguments.of("concurrent CASes from the same value, one wins", """
                        p1 w(x,a) 0 10
                        p1 cas(x,a,b)=t 20 40
                        p2 cas(x,a,c)=f 20 40
                        p3 r(x,b) 50 60"""),
                Arguments.of("UNKNOWN CAS that applied", """
                        p1 w(x,a) 0 10
                        p2 cas(x,a,b) 20 ?
                        p3 r(x,b) 50 60"""),
                Arguments.of("refused CAS explained by an UNKNOWN write nobody read", """
                        p1 w(x,a) 0 10
                        p2 w(x,z) 15 ?
                        p3 cas(x,a,b)=f 20 30"""),
                Arguments.of("CAS chain on ModifyIndex", """
                        p1 w(x,a) 0 10
                        p2 r(x,a@5) 20 30
                        p2 casi(x,5,b)=t 40 50
                        p3 r(x,b@9) 60 70
                        p1 casi(x,5,c)=f 80 90
                        p1 casi(x,9,d)=t 100 110"""),
                Arguments.of("CAS on ModifyIndex 0 creates", """
                        p1 casi(x,0,a)=t 0 10
                        p2 casi(x,0,b)=f 20 30
                        p2 r(x,a@3) 40 50"""),
                Arguments.of("index learned from a stale read", """
                        p1 w(x,a) 0 10
                        p2@s2 sr(x,a@4) 20 30
                        p2 casi(x,4,b)=t 40 50
                        p3 r(x,b) 60 70"""),
                Arguments.of("other kinds are ignored", """
                        p1 w(x,a) 0 10
                        p2 add(s,e) 0 10
                        p3 acq(l)=t 0 10
                        p1 sr(x,_) 20 30
                        p2 r(x,a) 20 30"""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void linearizable(String name, String history) {
        Result r = new Linearizability().check(Histories.parse(history));
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::describe);
    }

    static Stream<Arguments> notLinearizable() {
        return Stream.of(
                Arguments.of("stale read after a completed write", """
                        p1 w(x,a) 0 10
                        p1 w(x,b) 20 30
                        p2 r(x,a) 40 50""", "r(x,a)"),
                Arguments.of("a process does not read its own write", """
                        p1 w(x,a) 0 10
                        p1 r(x,_) 20 30""", "r(x,_)"),
                Arguments.of("two CASes from the same value both succeed", """
                        p1 w(x,a) 0 10
                        p1 cas(x,a,b)=t 20 30
                        p2 cas(x,a,c)=t 20 30""", "cas"),
                Arguments.of("read of a value never written", """
                        p1 w(x,a) 0 10
                        p2 r(x,q) 20 30""", "r(x,q)"),
                Arguments.of("a write that un-happens", """
                        p1 w(x,a) 0 10
                        p2 r(x,a) 20 30
                        p3 r(x,_) 40 50""", "r(x,_)"),
                Arguments.of("an UNKNOWN write seen, then gone", """
                        p1 w(x,b) 0 ?
                        p2 r(x,b) 10 20
                        p3 r(x,_) 30 40""", "r(x,_)"),
                Arguments.of("a refused CAS with nothing to explain it", """
                        p1 w(x,a) 0 10
                        p2 cas(x,a,b)=f 20 30""", "cas"),
                Arguments.of("a FAIL write observed", """
                        p1 w(x,a) 0 !10
                        p2 r(x,a) 20 30""", "r(x,a)"),
                Arguments.of("CAS on a ModifyIndex that was already overwritten", """
                        p1 w(x,a) 0 10
                        p2 r(x,a@5) 15 18
                        p1 w(x,b) 20 30
                        p2 r(x,b@8) 35 38
                        p3 casi(x,5,c)=t 40 50""", "casi"),
                Arguments.of("ModifyIndex going backwards in write order", """
                        p1 w(x,a) 0 10
                        p2 r(x,a@9) 5 12
                        p1 w(x,b) 20 30
                        p2 r(x,b@7) 35 40""", "w(x,b)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void notLinearizable(String name, String history, String culprit) {
        List<Operation> ops = Histories.parse(history);
        Result r = new Linearizability().check(ops);
        assertEquals(Verdict.VIOLATION, r.verdict(), r::describe);
        Violation v = r.violations().get(0);
        assertEquals("x", v.key());
        assertTrue(!v.unplaced().isEmpty(), r::describe);
        // The operation that breaks the history is among those that could not be placed.
        String[] lines = history.split("\n");
        boolean named = false;
        for (Operation op : v.unplaced()) {
            named |= lines[(int) op.id()].contains(culprit);
        }
        assertTrue(named, () -> "expected " + culprit + " among the unplaced:\n" + r.describe());
    }

    @Test
    void explainsAStaleReadWithTheLongestPrefix() {
        Result r = new Linearizability().check(Histories.parse("""
                p1 w(x,a) 0 10
                p1 w(x,b) 20 30
                p2 r(x,a) 40 50
                p3 r(x,b) 60 70"""));
        Violation v = r.violations().get(0);
        assertEquals(List.of(0L, 1L), v.prefix().stream().map(Operation::id).toList());
        assertEquals("\"b\"", v.stateAfterPrefix());
        assertEquals(List.of(2L), v.unplaced().stream().map(Operation::id).toList());
        assertTrue(r.describe().contains("could not place"), r::describe);
    }

    @Test
    void indexContradictionIsAViolation() {
        Result r = new Linearizability().check(Histories.parse("""
                p1 w(x,a) 0 10
                p2 r(x,a@5) 20 30
                p3 r(x,a@7) 40 50"""));
        assertEquals(Verdict.VIOLATION, r.verdict());
        assertTrue(r.violations().get(0).reason().contains("ModifyIndex 5 and 7"), r::describe);

        Result twoValues = new Linearizability().check(Histories.parse("""
                p1 w(x,a) 0 10
                p2 r(x,a@5) 20 30
                p1 w(x,b) 40 50
                p3 r(x,b@5) 60 70"""));
        assertEquals(Verdict.VIOLATION, twoValues.verdict());
    }

    @Test
    void keysAreCheckedIndependently() {
        Result r = new Linearizability().check(Histories.parse("""
                p1 w(x,a) 0 10
                p2 r(x,a) 20 30
                p1 w(y,a) 0 10
                p1 w(y,b) 20 30
                p2 r(y,a) 40 50"""));
        assertEquals(Verdict.VIOLATION, r.verdict());
        assertEquals(2, r.keys().size());
        assertEquals(Verdict.LINEARIZABLE, r.keys().get(0).verdict());
        assertEquals(List.of("y"), r.violations().stream().map(Violation::key).toList());
    }

    @Test
    void refusesRepeatedValuesWhenIndexesAreRecorded() {
        List<Operation> ops = Histories.parse("""
                p1 w(x,a) 0 10
                p2 w(x,a) 20 30
                p3 r(x,a@4) 40 50""");
        assertThrows(IllegalArgumentException.class, () -> new Linearizability().check(ops));
    }

    @Test
    void refusesAnOkCasWithoutAnAnswer() {
        List<Operation> ops = Histories.parse("p1 cas(x,_,a) 0 10");
        assertThrows(IllegalArgumentException.class, () -> new Linearizability().check(ops));
    }

    /** Many concurrent writes, all UNKNOWN and all read, then a read nobody wrote: a big search space. */
    private static List<Operation> hardHistory() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 14; i++) {
            b.append("p").append(i).append(" w(x,v").append(i).append(") 0 ?\n");
            b.append("p").append(100 + i).append(" r(x,v").append(i).append(") 1 1000\n");
        }
        b.append("p200 r(x,never) 2000 2010\n");
        return Histories.parse(b.toString());
    }

    @Test
    void stepBudgetGivesUnknownInsteadOfHanging() {
        Result r = new Linearizability(new Budget(1_000, Duration.ofMinutes(1))).check(hardHistory());
        assertEquals(Verdict.UNKNOWN, r.verdict(), r::describe);
        assertTrue(r.keys().get(0).note().contains("search budget spent"), r::describe);
    }

    @Test
    void timeBudgetGivesUnknownInsteadOfHanging() {
        AtomicLong now = new AtomicLong();
        // Every reading of the clock advances it by one millisecond; the limit is one second.
        Linearizability checker = new Linearizability(new Budget(Long.MAX_VALUE, Duration.ofSeconds(1)),
                () -> now.addAndGet(1_000_000));
        Result r = checker.check(hardHistory());
        assertEquals(Verdict.UNKNOWN, r.verdict(), r::describe);
    }
}
