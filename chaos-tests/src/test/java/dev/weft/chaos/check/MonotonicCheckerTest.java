package dev.weft.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MonotonicCheckerTest {

    @Test
    void increasingIndexesPerMemberAreValid() {
        MonotonicChecker.Result r = MonotonicChecker.perMember(Histories.parse("""
                p1@s1 sr(x,a@5) 0 10
                p2@s1 sr(x,b@9) 20 30
                p3@s2 sr(x,a@5) 40 50
                p1@s1 r(x,b@9) 60 70
                p1@s1 sr(y,c@3) 80 90"""));
        assertTrue(r.valid(), r::describe);
        assertEquals(5, r.observations());
    }

    @Test
    void membersAreIndependentButEachMustNotGoBack() {
        MonotonicChecker.Result r = MonotonicChecker.perMember(Histories.parse("""
                p1@s2 sr(x,b@9) 0 10
                p2@s3 sr(x,a@5) 20 30
                p3@s2 sr(x,a@5) 40 50"""));
        assertFalse(r.valid());
        assertEquals(1, r.regressions().size());
        MonotonicChecker.Regression g = r.regressions().get(0);
        assertEquals("s2", g.group());
        assertEquals(9, g.earlier().modifyIndex());
        assertEquals(5, g.later().modifyIndex());
    }

    @Test
    void overlappingReadsMayObserveIndexesInEitherOrder() {
        MonotonicChecker.Result r = MonotonicChecker.perMember(Histories.parse("""
                p1@s2 sr(x,b@9) 0 30
                p2@s2 sr(x,a@5) 10 20
                p3@s2 sr(x,_) 40 ?"""));
        assertTrue(r.valid(), r::describe);
    }

    @Test
    void aWatcherMustNotGoBackEvenAcrossMembers() {
        MonotonicChecker.Result r = MonotonicChecker.perProcess(Histories.parse("""
                p7@s1 sr(x,b@9) 0 10
                p7@s2 sr(x,a@5) 20 30"""));
        assertFalse(r.valid());
        assertEquals("p7", r.regressions().get(0).group());
        assertTrue(MonotonicChecker.perMember(Histories.parse("""
                p7@s1 sr(x,b@9) 0 10
                p7@s2 sr(x,a@5) 20 30""")).valid());
    }
}
