package dev.weft.chaos.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.weft.chaos.history.History.Call;
import dev.weft.chaos.history.History.Pending;
import dev.weft.chaos.history.Operation.Kind;
import dev.weft.chaos.history.Operation.Outcome;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {

    @Test
    void recordsInvokeAndCompleteTimesFromItsClock() {
        AtomicLong now = new AtomicLong(100);
        History h = new History(now::get);
        Pending w = h.invoke(Call.write(1, "x", "a").on("s2"));
        now.set(150);
        Operation op = w.ok();
        assertEquals(new Operation(0, 1, "s2", Kind.WRITE, "x", "a", null, null, null, null, 100, 150,
                Outcome.OK), op);

        Pending r = h.invoke(Call.read(2, "x"));
        now.set(170);
        assertEquals("a", r.read("a", 7L).value());
        Pending c = h.invoke(Call.casIndex(3, "x", 7, "a", "b"));
        assertEquals(Boolean.TRUE, c.applied(true).applied());
        assertEquals(3, h.size());
    }

    @Test
    void countsTheOperationsThatCompletedOk() {
        AtomicLong now = new AtomicLong();
        History h = new History(now::get);
        h.invoke(Call.write(1, "x", "a")).ok();
        h.invoke(Call.write(2, "x", "b")).fail();
        h.invoke(Call.write(3, "x", "c")); // still in flight
        h.recordOk(Call.write(4, "y", "d"), 0, 1);
        assertEquals(2, h.okCount());
        assertEquals(4, h.size());
    }

    @Test
    void operationsStillInFlightAreUnknown() {
        AtomicLong now = new AtomicLong();
        History h = new History(now::get);
        h.invoke(Call.write(1, "x", "a"));
        Pending done = h.invoke(Call.read(2, "x"));
        now.set(10);
        done.read(null, null);
        List<Operation> ops = h.operations();
        assertEquals(2, ops.size());
        assertEquals(Outcome.UNKNOWN, ops.get(0).outcome());
        assertEquals("a", ops.get(0).value());
        assertEquals(Outcome.OK, ops.get(1).outcome());
    }

    @Test
    void anOperationCompletesOnce() {
        History h = new History();
        Pending p = h.invoke(Call.add(1, "s", "e"));
        p.unknown();
        assertThrows(IllegalStateException.class, p::ok);
    }

    @Test
    void concurrentClientsGetUniqueIdsAndNothingIsLost() throws InterruptedException {
        History h = new History();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            int process = c;
            clients.add(new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    Pending p = h.invoke(Call.write(process, "k" + (i % 3), process + "-" + i));
                    if (i % 10 == 0) {
                        p.unknown();
                    } else {
                        p.ok();
                    }
                }
            }));
        }
        clients.forEach(Thread::start);
        for (Thread t : clients) {
            t.join();
        }
        List<Operation> ops = h.operations();
        assertEquals(2000, ops.size());
        Set<Long> ids = new HashSet<>();
        ops.forEach(op -> ids.add(op.id()));
        assertEquals(2000, ids.size());
        for (int i = 1; i < ops.size(); i++) {
            assertTrue(ops.get(i - 1).invokeNanos() <= ops.get(i).invokeNanos());
        }
    }

    @Test
    void jsonLinesRoundTrip(@TempDir Path dir) throws IOException {
        AtomicLong now = new AtomicLong();
        History h = new History(now::incrementAndGet);
        h.invoke(Call.write(1, "x", "a").on("s1")).ok();
        h.invoke(Call.read(2, "x")).read(null, null);
        h.invoke(Call.staleRead(2, "x").on("s3")).read("a", 12L);
        h.invoke(Call.cas(3, "x", "a", "b")).applied(false);
        h.invoke(Call.casIndex(3, "x", 0, null, "c")).fail();
        h.invoke(Call.readAll(4, "set")).readAll(List.of("e1", "e2"));
        h.invoke(Call.acquire(5, "lock")).applied(true);
        h.invoke(Call.release(5, "lock"));

        Path file = dir.resolve("history.jsonl");
        h.writeJsonLines(file);
        List<String> lines = Files.readAllLines(file);
        assertEquals(8, lines.size());
        assertTrue(lines.get(0).contains("\"kind\":\"WRITE\""), lines.get(0));
        assertTrue(!lines.get(1).contains("null"), "absent fields are left out: " + lines.get(1));

        History back = History.readJsonLines(file);
        assertEquals(h.operations().subList(0, 7), back.operations().subList(0, 7));
        assertEquals(Outcome.UNKNOWN, back.operations().get(7).outcome());
    }

    @Test
    void readingReportsTheBadLine() {
        String text = "{\"id\":0,\"process\":1,\"kind\":\"READ\",\"key\":\"x\",\"invokeNanos\":1,"
                + "\"completeNanos\":2,\"outcome\":\"OK\"}\n\nnot json\n";
        IOException e = assertThrows(IOException.class, () -> History.readJsonLines(new StringReader(text)));
        assertTrue(e.getMessage().startsWith("history line 3"), e.getMessage());
    }

    @Test
    void writesToAnyWriter() throws IOException {
        History h = History.of(List.of(new Operation(4, 1, null, Kind.ADD, "s", "e", null, null, null, null, 1, 2,
                Outcome.OK)));
        StringWriter out = new StringWriter();
        h.writeJsonLines(out);
        assertEquals(h.operations(), History.readJsonLines(new StringReader(out.toString())).operations());
    }
}
