package dev.weft.agent.cluster;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * One client thread writing {@code PUT /v1/kv/<prefix><i>} = {@code v<i>} for i = 0, 1, 2, … through the live
 * members in turn (leader and followers alike). A write that fails (error, timeout, no leader) is retried on the
 * next member until acknowledged, so the acknowledged set is exactly {@code 0..n-1}; only HTTP 200 {@code true}
 * counts as acknowledged.
 */
final class WriteLoadClient implements AutoCloseable {

    private final KvHttpClient http;
    private final Supplier<List<ForkedServer>> members;
    private final String prefix;
    private final Set<Integer> acked = new ConcurrentSkipListSet<>();
    private final AtomicInteger failures = new AtomicInteger();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable crashed;

    WriteLoadClient(KvHttpClient http, Supplier<List<ForkedServer>> members, String prefix) {
        this.http = http;
        this.members = members;
        this.prefix = prefix;
        this.thread = new Thread(this::run, "it-writer");
        this.thread.setDaemon(true);
    }

    static String value(int i) {
        return "v" + i;
    }

    void start() {
        thread.start();
    }

    private void run() {
        int i = 0;
        int next = 0;
        int failedInARow = 0;
        try {
            while (running) {
                List<ForkedServer> live = members.get().stream().filter(ForkedServer::isAlive).toList();
                if (live.isEmpty()) {
                    TimeUnit.MILLISECONDS.sleep(50);
                    continue;
                }
                ForkedServer m = live.get(Math.floorMod(next, live.size()));
                next++;
                if (http.put(m.httpPort, prefix + i, value(i))) {
                    acked.add(i);
                    i++;
                    failedInARow = 0;
                } else {
                    failures.incrementAndGet();
                    if (++failedInARow >= live.size()) {
                        TimeUnit.MILLISECONDS.sleep(50); // back off while there is no leader
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            crashed = t;
        }
    }

    int ackedCount() {
        if (crashed != null) {
            throw new AssertionError("writer thread crashed", crashed);
        }
        return acked.size();
    }

    Set<Integer> acked() {
        return Set.copyOf(acked);
    }

    int failures() {
        return failures.get();
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(15));
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            thread.interrupt();
            Thread.currentThread().interrupt();
        }
    }
}
