package dev.weft.chaos.harness;

import dev.weft.chaos.check.Linearizability;
import dev.weft.chaos.check.LockChecker;
import dev.weft.chaos.check.MonotonicChecker;
import dev.weft.chaos.check.SetChecker;
import dev.weft.chaos.history.History;
import dev.weft.chaos.history.Operation;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The history checkers of a run, also usable on a saved {@code history.jsonl} (replay):
 * {@code java -cp … dev.weft.chaos.harness.Checks target/chaos/…/history.jsonl} prints the verdicts and exits
 * 0 when the history is valid, 1 when a checker found a violation, 2 on a usage error.
 */
public final class Checks {
    /** Every checker's verdict; {@code problems} empty means the history is valid. */
    public record Verdicts(Linearizability.Result registers, long registersMillis, List<SetChecker.Result> sets,
                           LockChecker.Result locks, MonotonicChecker.Result stale, MonotonicChecker.Result watches,
                           List<String> problems) {
    }

    private Checks() {
    }

    public static Verdicts run(List<Operation> ops) {
        List<String> problems = new ArrayList<>();
        List<Operation> registers = ops.stream().filter(o -> o.key().startsWith("reg/")).toList();
        long t0 = System.nanoTime();
        Linearizability.Result lin = new Linearizability().check(registers);
        long linMillis = Duration.ofNanos(System.nanoTime() - t0).toMillis();
        if (lin.verdict() != Linearizability.Verdict.LINEARIZABLE) {
            problems.add("registers: " + lin.verdict() + "\n" + lin.describe());
        }
        List<SetChecker.Result> sets = SetChecker.check(ops);
        if (!SetChecker.allValid(sets)) {
            problems.add("sets: " + sets.stream().map(SetChecker.Result::describe).toList());
        }
        LockChecker.Result locks = LockChecker.check(ops);
        if (!locks.valid()) {
            problems.add("locks: " + locks.describe());
        }
        MonotonicChecker.Result stale = MonotonicChecker.perMember(registers.stream()
                .filter(o -> o.kind() == Operation.Kind.STALE_READ).toList());
        if (!stale.valid()) {
            problems.add("stale reads: " + stale.describe());
        }
        MonotonicChecker.Result watch = MonotonicChecker.perProcess(ops.stream()
                .filter(o -> o.key().equals(Workloads.WATCH_KEY)).toList());
        if (!watch.valid()) {
            problems.add("watches: " + watch.describe());
        }
        return new Verdicts(lin, linMillis, sets, locks, stale, watch, List.copyOf(problems));
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: Checks HISTORY.jsonl");
            System.exit(2);
            return;
        }
        History h = History.readJsonLines(Path.of(args[0]));
        Verdicts v = run(h.operations());
        System.out.println(h.size() + " operations");
        System.out.println("registers: " + v.registers().verdict() + " (" + v.registersMillis() + " ms)");
        v.sets().forEach(s -> System.out.println(s.describe()));
        System.out.print("locks: " + (v.locks().valid() ? "ok\n" : v.locks().describe()));
        System.out.print(v.stale().describe());
        System.out.print(v.watches().describe());
        v.problems().forEach(p -> System.out.println("PROBLEM: " + p));
        System.exit(v.problems().isEmpty() ? 0 : 1);
    }
}
