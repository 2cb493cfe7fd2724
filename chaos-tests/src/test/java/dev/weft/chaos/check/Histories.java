package dev.weft.chaos.check;

import dev.weft.chaos.history.Operation;
import dev.weft.chaos.history.Operation.Kind;
import dev.weft.chaos.history.Operation.Outcome;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Histories written as text, one operation per line (or separated by {@code |}):
 * {@code p<process> <op> <invoke> <complete>}, where complete is a time, {@code ?} (UNKNOWN) or {@code !<time>}
 * (FAIL), and op is one of {@code w(k,v)}, {@code r(k,v)}, {@code r(k,v@index)}, {@code sr(k,v@index)} (stale),
 * {@code cas(k,expected,new)=t|f}, {@code casi(k,index,new)=t|f}, {@code add(set,e)}, {@code all(set,a b c)},
 * {@code acq(lock)=t|f}, {@code rel(lock)}. A value {@code _} means absent. {@code @member} after the process
 * names the server: {@code p1@s2 r(x,a@4) 0 5}.
 */
final class Histories {

    private static final Pattern LINE = Pattern.compile(
            "p(\\d+)(?:@(\\w+))?\\s+(\\w+)\\(([^)]*)\\)(?:=([tf]))?\\s+(\\d+)\\s+(\\?|!?\\d+)");

    private Histories() {
    }

    static List<Operation> parse(String text) {
        List<Operation> ops = new ArrayList<>();
        for (String line : text.split("[\\n|]")) {
            if (!line.isBlank()) {
                ops.add(parseOne(ops.size(), line.trim()));
            }
        }
        return ops;
    }

    private static Operation parseOne(long id, String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            throw new IllegalArgumentException("bad history line: " + line);
        }
        int process = Integer.parseInt(m.group(1));
        String member = m.group(2);
        String name = m.group(3);
        String[] args = m.group(4).split(",", -1);
        Boolean applied = m.group(5) == null ? null : m.group(5).equals("t");
        long invoke = Long.parseLong(m.group(6));
        String end = m.group(7);
        Outcome outcome = end.equals("?") ? Outcome.UNKNOWN : end.startsWith("!") ? Outcome.FAIL : Outcome.OK;
        long complete = end.equals("?") ? invoke : Long.parseLong(end.replace("!", ""));
        String key = args[0];
        return switch (name) {
            case "w" -> op(id, process, member, Kind.WRITE, key, value(args[1]), null, null, null, null, invoke,
                    complete, outcome);
            case "r", "sr" -> {
                String[] vi = args[1].split("@");
                Long index = vi.length > 1 ? Long.valueOf(vi[1]) : null;
                yield op(id, process, member, name.equals("r") ? Kind.READ : Kind.STALE_READ, key, value(vi[0]),
                        null, index, null, null, invoke, complete, outcome);
            }
            case "cas" -> op(id, process, member, Kind.CAS, key, value(args[2]), value(args[1]), null, applied,
                    null, invoke, complete, outcome);
            case "casi" -> op(id, process, member, Kind.CAS, key, value(args[2]), null, Long.valueOf(args[1]),
                    applied, null, invoke, complete, outcome);
            case "add" -> op(id, process, member, Kind.ADD, key, args[1], null, null, null, null, invoke, complete,
                    outcome);
            case "all" -> op(id, process, member, Kind.READ_ALL, key, null, null, null, null,
                    args[1].isBlank() ? List.of() : Arrays.asList(args[1].trim().split("\\s+")), invoke, complete,
                    outcome);
            case "acq" -> op(id, process, member, Kind.ACQUIRE, key, null, null, null, applied, null, invoke,
                    complete, outcome);
            case "rel" -> op(id, process, member, Kind.RELEASE, key, null, null, null, null, null, invoke, complete,
                    outcome);
            default -> throw new IllegalArgumentException("unknown operation " + name + " in " + line);
        };
    }

    private static Operation op(long id, int process, String member, Kind kind, String key, String value,
                                String expected, Long index, Boolean applied, List<String> values, long invoke,
                                long complete, Outcome outcome) {
        return new Operation(id, process, member, kind, key, value, expected, index, applied, values, invoke,
                complete, outcome);
    }

    private static String value(String s) {
        return s.equals("_") ? null : s;
    }
}
