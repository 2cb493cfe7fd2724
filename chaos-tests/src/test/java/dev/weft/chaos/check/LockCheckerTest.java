package dev.weft.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LockCheckerTest {

    @Test
    void holdersOneAfterAnotherAreValid() {
        LockChecker.Result r = LockChecker.check(Histories.parse("""
                p1 acq(l)=t 0 10
                p2 acq(l)=f 5 15
                p1 rel(l) 20 30
                p2 acq(l)=t 25 35
                p2 rel(l) 40 ?
                p3 acq(l)=t 38 50
                p3 acq(m)=t 0 10
                p4 acq(m)=f 60 70"""));
        assertTrue(r.valid(), r::describe);
        assertEquals(4, r.holds().size());
    }

    @Test
    void twoHoldersAtOnceAreReported() {
        LockChecker.Result r = LockChecker.check(Histories.parse("""
                p1 acq(l)=t 0 10
                p2 acq(l)=t 5 15
                p1 rel(l) 20 30
                p2 rel(l) 40 50"""));
        assertFalse(r.valid());
        assertEquals(1, r.overlaps().size());
        assertEquals(1, r.overlaps().get(0).first().process());
        assertEquals(2, r.overlaps().get(0).second().process());
    }

    @Test
    void aHoldNeverReleasedLastsUntilTheEnd() {
        LockChecker.Result r = LockChecker.check(Histories.parse("""
                p1 acq(l)=t 0 10
                p2 acq(l)=t 100 110
                p3 rel(l) 200 210"""));
        assertFalse(r.valid(), r::describe);
        assertNull(r.overlaps().get(0).first().release());
        assertEquals(210, r.overlaps().get(0).first().until());
    }

    @Test
    void unknownAcquiresAndReacquiresByTheSameProcessAreNotOverlaps() {
        LockChecker.Result r = LockChecker.check(Histories.parse("""
                p1 acq(l) 0 ?
                p2 acq(l)=t 5 15
                p2 acq(l)=t 20 25
                p2 rel(l) 30 40"""));
        assertTrue(r.valid(), r::describe);
    }
}
