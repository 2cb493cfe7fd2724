package dev.weft.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SetCheckerTest {

    @Test
    void everyAcknowledgedAddPresentIsValid() {
        List<SetChecker.Result> results = SetChecker.check(Histories.parse("""
                p1 add(s,a) 0 10
                p2 add(s,b) 5 15
                p3 add(s,c) 20 ?
                p1 add(s,d) 20 !25
                p4 all(s,a b c) 100 110"""));
        SetChecker.Result r = results.get(0);
        assertTrue(r.valid(), r::describe);
        assertEquals(2, r.acknowledged());
        assertEquals(Set.of("c"), r.recovered());
    }

    @Test
    void reportsLostAndUnexpectedElements() {
        SetChecker.Result r = SetChecker.check(Histories.parse("""
                p1 add(s,a) 0 10
                p2 add(s,b) 5 15
                p1 add(s,f) 20 !25
                p4 all(s,a f z) 100 110""")).get(0);
        assertFalse(r.valid());
        assertEquals(Set.of("b"), r.lost());
        assertEquals(Set.of("f", "z"), r.unexpected());
        assertTrue(r.describe().contains("1 lost [b]"), r::describe);
    }

    @Test
    void addsConcurrentWithTheFinalReadMayBeMissingButLaterOnesMustBe() {
        SetChecker.Result r = SetChecker.check(Histories.parse("""
                p1 add(s,a) 95 105
                p2 add(s,late) 120 130
                p3 all(s,) 20 30
                p4 all(s,late) 100 110""")).get(0);
        assertEquals(Set.of(), r.lost());
        assertEquals(Set.of("late"), r.unexpected(), r::describe);
        assertEquals(110, r.finalRead().completeNanos());
    }

    @Test
    void aSetWithoutAFinalReadIsInvalid() {
        List<SetChecker.Result> results = SetChecker.check(Histories.parse("""
                p1 add(s,a) 0 10
                p2 all(s,a) 20 ?
                p1 add(t,a) 0 10
                p2 all(t,a) 20 30"""));
        assertEquals(List.of("s", "t"), results.stream().map(SetChecker.Result::set).toList());
        assertFalse(results.get(0).valid());
        assertTrue(results.get(0).describe().contains("no successful final read"));
        assertFalse(SetChecker.allValid(results));
    }
}
