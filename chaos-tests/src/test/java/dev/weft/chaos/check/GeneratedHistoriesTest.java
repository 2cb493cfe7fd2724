package dev.weft.chaos.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weft.chaos.check.Linearizability.Result;
import dev.weft.chaos.check.Linearizability.Verdict;
import dev.weft.chaos.history.History;
import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Histories from {@link RegisterSimulation}: 4 clients × 50 operations on 2 keys, seeded. */
class GeneratedHistoriesTest {

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
    void aCorrectRegisterIsAlwaysLinearizable(long seed) {
        List<Operation> ops = RegisterSimulation.run(RegisterSimulation.Config.correct(), seed);
        assertEquals(200, ops.size());
        assertTrue(ops.stream().anyMatch(Operation::isUnknown), "the simulation should produce UNKNOWN outcomes");

        Result r = new Linearizability().check(ops);
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::describe);
        assertTrue(MonotonicChecker.perMember(ops).valid());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void readingFromAFollowerWithoutReadIndexIsCaught(long seed) {
        List<Operation> ops = RegisterSimulation.run(
                RegisterSimulation.Config.correct().withFollowerReadsWithoutReadIndex(false), seed);

        Result r = new Linearizability().check(ops);
        assertEquals(Verdict.VIOLATION, r.verdict(), "the stale follower reads went unnoticed");
        assertTrue(r.violations().stream().flatMap(v -> v.unplaced().stream())
                        .anyMatch(op -> op.kind() == Kind.READ && !"s1".equals(op.member())),
                () -> "expected a follower read among the unplaced operations:\n" + r.describe());
        // A follower's view only moves forward, so the per-member index check cannot see this bug.
        assertTrue(MonotonicChecker.perMember(ops).valid());
    }

    @Test
    void aFailingHistoryReplaysFromItsJsonLines() throws IOException {
        List<Operation> ops = RegisterSimulation.run(
                RegisterSimulation.Config.correct().withFollowerReadsWithoutReadIndex(false), 1);
        StringWriter out = new StringWriter();
        History.of(ops).writeJsonLines(out);
        History replayed = History.readJsonLines(new StringReader(out.toString()));

        Result original = new Linearizability().check(ops);
        Result again = new Linearizability().check(replayed);
        assertEquals(Verdict.VIOLATION, again.verdict());
        assertEquals(original.describe(), again.describe());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void theSameFollowerReadsAreFineWhenTheyAreStaleReads(long seed) {
        List<Operation> ops = RegisterSimulation.run(
                RegisterSimulation.Config.correct().withFollowerReadsWithoutReadIndex(true), seed);
        assertTrue(ops.stream().anyMatch(op -> op.kind() == Kind.STALE_READ));

        Result r = new Linearizability().check(ops);
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::describe);
        MonotonicChecker.Result monotonic = MonotonicChecker.perMember(ops);
        assertTrue(monotonic.valid(), monotonic::describe);
    }
}
