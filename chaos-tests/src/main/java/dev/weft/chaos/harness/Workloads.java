package dev.weft.chaos.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.chaos.history.History;
import dev.weft.chaos.history.History.Call;
import dev.weft.chaos.history.History.Pending;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clients of a run, each a thread that is one "process" of the history, bound to one member and reaching it
 * through that member's client proxy:
 * <ul>
 *   <li>registers: read (default or {@code ?consistent}), write, CAS ({@code ?cas=ModifyIndex}) on a few keys;</li>
 *   <li>stale readers: {@code ?stale} reads, checked for monotonic indexes per member;</li>
 *   <li>set adders: unique keys under {@code set/}, all read back at the end;</li>
 *   <li>lock clients: session locks ({@code ?acquire} / {@code ?release}, TTL 10 s, renewed);</li>
 *   <li>watchers: blocking queries on {@code watch/w}, written by a counter; every watcher must see the last
 *       value;</li>
 *   <li>a DNS prober asking every member's DNS server for a service, directly (not through proxies).</li>
 * </ul>
 */
final class Workloads {
    static final String SERVICE = "chaos-web";
    static final String WATCH_KEY = "watch/w";
    static final String SET = "set/s0";
    static final String LOCK = "lock/l0";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration OP_TIMEOUT = Duration.ofMillis(1500);
    private static final long SESSION_TTL_MILLIS = 10_000;
    /** A lock is certainly held until this long after the last renewal was sent (TTL minus a clock margin). */
    private static final long SAFE_HOLD_NANOS = Duration.ofMillis(SESSION_TTL_MILLIS - 1_000).toNanos();

    private final Cluster cluster;
    private final History history;
    private final EventLog events;
    private final Random seeds;
    private final int registerKeys;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicInteger nextProcess = new AtomicInteger();
    private final AtomicLong watchCounter = new AtomicLong();
    /** Members currently cut off from a majority (set by the nemesis), for DNS accounting. */
    final Set<String> minority = ConcurrentHashMap.newKeySet();
    final DnsStats dns = new DnsStats();
    private final List<Watcher> watchers = new ArrayList<>();

    /** DNS probe counts: all, and those sent to members in a minority. */
    static final class DnsStats {
        final AtomicLong probes = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong minorityProbes = new AtomicLong();
        final AtomicLong minorityFailed = new AtomicLong();
        final Map<String, String> lastFailure = new ConcurrentHashMap<>();
    }

    Workloads(Cluster cluster, History history, EventLog events, long seed, int registerKeys) {
        this.cluster = cluster;
        this.history = history;
        this.events = events;
        this.seeds = new Random(seed);
        this.registerKeys = registerKeys;
    }

    /** Registers the DNS workload's service on an external node (no checks, so it stays passing everywhere). */
    void prepare() throws IOException {
        Member leader = cluster.awaitAgreedLeader(Duration.ofSeconds(60));
        String body = "{\"Node\":\"chaos-ext\",\"Address\":\"192.0.2.10\",\"Service\":{\"ID\":\"" + SERVICE
                + "-1\",\"Service\":\"" + SERVICE + "\",\"Port\":80,\"Address\":\"192.0.2.10\"}}";
        Deadline.poll(Duration.ofSeconds(30), "registering " + SERVICE, () -> {
            try {
                return cluster.http().put(leader.httpPort, "/v1/catalog/register", body).ok() ? Boolean.TRUE : null;
            } catch (IOException e) {
                return null;
            }
        });
    }

    void start() {
        List<Member> members = cluster.members();
        int n = members.size();
        for (int i = 0; i < 2 * n; i++) {
            Member m = members.get(i % n);
            spawn("register", m, (p, http, rnd) -> register(p, m, http, rnd));
        }
        for (Member m : members) {
            spawn("stale", m, (p, http, rnd) -> staleRead(p, m, http, rnd));
        }
        for (int i = 0; i < 2; i++) {
            Member m = members.get(i % n);
            spawn("set", m, (p, http, rnd) -> addToSet(p, m, http, rnd));
        }
        for (int i = 0; i < 3; i++) {
            Member m = members.get(i % n);
            LockClient lc = new LockClient(m);
            spawn("lock", m, (p, http, rnd) -> lc.step(p, http, rnd));
        }
        for (Member m : members) {
            Watcher w = new Watcher(m);
            watchers.add(w);
            spawn("watch", m, (p, http, rnd) -> w.step(p, http));
        }
        spawn("watch-writer", members.get(0), (p, http, rnd) -> writeWatchCounter(http, rnd));
        Thread dnsProber = new Thread(this::probeDns, "chaos-dns");
        dnsProber.setDaemon(true);
        threads.add(dnsProber);
        dnsProber.start();
        events.log("workload", threads.size() + " client threads started");
    }

    interface Step {
        void run(int process, Http http, Random rnd) throws IOException;
    }

    private void spawn(String kind, Member m, Step step) {
        int process = nextProcess.getAndIncrement();
        long seed = seeds.nextLong();
        Thread t = new Thread(() -> {
            Random rnd = new Random(seed);
            Http http = new Http(OP_TIMEOUT);
            while (running.get()) {
                try {
                    step.run(process, http, rnd);
                } catch (IOException | RuntimeException e) {
                    if (!Pause.millis(50)) {
                        return;
                    }
                }
            }
        }, "chaos-" + kind + "-" + process + "-" + m.name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    /** Stops every client and waits for the ones in flight (each request is bounded by its timeout). */
    void stop() {
        running.set(false);
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        events.log("workload", "clients stopped");
    }

    // ---- registers ----------------------------------------------------------------------------------------

    private int port(Member m) {
        return cluster.clientPort(m);
    }

    private String key(Random rnd) {
        return "reg/k" + rnd.nextInt(registerKeys);
    }

    private int seq;

    private void register(int p, Member m, Http http, Random rnd) throws IOException {
        String key = key(rnd);
        int dice = rnd.nextInt(100);
        if (dice < 40) {
            boolean consistent = rnd.nextBoolean();
            read(p, m, http, key, consistent);
        } else if (dice < 75) {
            String value = "p" + p + "-" + nextSeq();
            put(history.invoke(Call.write(p, key, value).on(m.name)), http, m, "/v1/kv/" + key, value);
        } else {
            Entry seen = read(p, m, http, key, true);
            if (seen == null) {
                return;
            }
            String value = "p" + p + "-" + nextSeq();
            Pending op = history.invoke(Call.casIndex(p, key, seen.index, seen.value, value).on(m.name));
            try {
                Http.Response r = http.put(port(m), "/v1/kv/" + key + "?cas=" + seen.index, value);
                String b = r.body().trim();
                if (r.ok() && (b.equals("true") || b.equals("false"))) {
                    op.applied(b.equals("true"));
                } else if (r.status() >= 400 && r.status() < 500) {
                    op.fail();
                } else {
                    op.unknown();
                }
            } catch (IOException e) {
                op.unknown();
            }
        }
    }

    private synchronized int nextSeq() {
        return ++seq;
    }

    /** A key's value and ModifyIndex (index 0 and value null when absent). */
    record Entry(String value, long index) {
    }

    private Entry read(int p, Member m, Http http, String key, boolean consistent) {
        Pending op = history.invoke(Call.read(p, key).on(m.name));
        try {
            Http.Response r = http.get(port(m), "/v1/kv/" + key + (consistent ? "?consistent" : ""));
            Entry e = entry(r);
            if (e == null) {
                op.fail();
                return null;
            }
            op.read(e.value, e.index == 0 ? null : e.index);
            return e;
        } catch (IOException e) {
            op.fail();
            return null;
        }
    }

    private static Entry entry(Http.Response r) throws IOException {
        if (r.status() == 404) {
            return new Entry(null, 0);
        }
        if (!r.ok()) {
            return null;
        }
        JsonNode node = JSON.readTree(r.body()).get(0);
        JsonNode v = node.get("Value");
        String value = v == null || v.isNull() ? "" : new String(Base64.getDecoder().decode(v.asText()),
                StandardCharsets.UTF_8);
        return new Entry(value, node.get("ModifyIndex").asLong());
    }

    private void staleRead(int p, Member m, Http http, Random rnd) throws IOException {
        String key = key(rnd);
        Pending op = history.invoke(Call.staleRead(p, key).on(m.name + "#" + m.starts()));
        try {
            Http.Response r = http.get(port(m), "/v1/kv/" + key + "?stale");
            Entry e = entry(r);
            if (e == null || r.index() < 0) {
                op.fail();
            } else {
                op.read(e.value, r.index());
            }
        } catch (IOException e) {
            op.fail();
        }
        Pause.millis(20);
    }

    // ---- sets ---------------------------------------------------------------------------------------------

    private void addToSet(int p, Member m, Http http, Random rnd) {
        String element = "p" + p + "-" + nextSeq();
        put(history.invoke(Call.add(p, SET, element).on(m.name)), http, m, "/v1/kv/" + SET + "/" + element, "x");
        Pause.millis(10);
    }

    /** A KV PUT whose answer completes {@code op}: "true" is OK, a 4xx took no effect, anything else is unknown. */
    private void put(Pending op, Http http, Member m, String path, String body) {
        try {
            Http.Response r = http.put(port(m), path, body);
            if (r.ok() && r.body().trim().equals("true")) {
                op.ok();
            } else if (r.status() >= 400 && r.status() < 500) {
                op.fail();
            } else {
                op.unknown();
            }
        } catch (IOException e) {
            op.unknown();
        }
    }

    /** Reads the whole set with a consistent read through {@code m} (directly, not through a proxy). */
    void readSet(Member m) throws IOException {
        int p = nextProcess.getAndIncrement();
        Http http = new Http(Duration.ofSeconds(10));
        Deadline.poll(Duration.ofSeconds(30), "reading the set through " + m.name, () -> {
            Pending op = history.invoke(Call.readAll(p, SET).on(m.name));
            try {
                Http.Response r = http.get(m.httpPort, "/v1/kv/" + SET + "/?keys&consistent");
                if (r.status() == 404) {
                    op.readAll(List.of());
                    return Boolean.TRUE;
                }
                if (!r.ok()) {
                    op.fail();
                    return null;
                }
                List<String> values = new ArrayList<>();
                for (JsonNode k : JSON.readTree(r.body())) {
                    values.add(k.asText().substring(SET.length() + 1));
                }
                op.readAll(values);
                return Boolean.TRUE;
            } catch (IOException e) {
                op.fail();
                return null;
            }
        });
    }

    // ---- locks --------------------------------------------------------------------------------------------

    private final class LockClient {
        private final Member m;
        private String session;
        private long lastRenewInvoke;

        LockClient(Member m) {
            this.m = m;
        }

        void step(int p, Http http, Random rnd) throws IOException {
            if (session == null) {
                long invoke = history.now();
                Http.Response r = http.put(port(m), "/v1/session/create",
                        "{\"TTL\":\"" + SESSION_TTL_MILLIS / 1000 + "s\",\"LockDelay\":\"0s\",\"Behavior\":\"release\"}");
                if (!r.ok()) {
                    Pause.millis(200);
                    return;
                }
                session = JSON.readTree(r.body()).get("ID").asText();
                lastRenewInvoke = invoke;
            }
            Pending acquire = history.invoke(Call.acquire(p, LOCK).on(m.name));
            Boolean got;
            try {
                Http.Response r = http.put(port(m), "/v1/kv/" + LOCK + "?acquire=" + session, "p" + p);
                String b = r.body().trim();
                if (r.ok() && (b.equals("true") || b.equals("false"))) {
                    got = b.equals("true");
                    acquire.applied(got);
                } else if (r.status() >= 400 && r.status() < 500) {
                    got = false; // refused (for example the session is gone): it took no effect
                    acquire.fail();
                    abandonSession(http);
                    return;
                } else {
                    got = null;
                    acquire.unknown();
                }
            } catch (IOException e) {
                got = null;
                acquire.unknown();
            }
            if (Boolean.FALSE.equals(got)) {
                renewIfDue(http);
                Pause.millis(50 + rnd.nextInt(100));
                return;
            }
            if (Boolean.TRUE.equals(got)) {
                Pause.millis(50 + rnd.nextInt(250));
            }
            // Held (or perhaps held): release. If the session may have expired meanwhile, the hold certainly
            // ended no later than the last renewal plus the TTL: record that first.
            long safeUntil = lastRenewInvoke + SAFE_HOLD_NANOS;
            if (Boolean.TRUE.equals(got) && history.now() > safeUntil) {
                history.recordOk(Call.release(p, LOCK).on(m.name), safeUntil, safeUntil);
            }
            Pending release = history.invoke(Call.release(p, LOCK).on(m.name));
            boolean released = false;
            try {
                Http.Response r = http.put(port(m), "/v1/kv/" + LOCK + "?release=" + session, "");
                if (r.ok()) {
                    release.ok();
                    released = true;
                } else {
                    release.unknown();
                }
            } catch (IOException e) {
                release.unknown();
            }
            if (got == null || !released) {
                // A request whose outcome is unknown may still apply later (weft retries a proposal for up to
                // its request timeout, after this client gave up). Consul's release is by session, so a late
                // release would end a later hold of the same session, and a late acquire would take the lock
                // for it: never use this session again.
                abandonSession(http);
                return;
            }
            renewIfDue(http);
        }

        /** Forgets the session (and asks to destroy it; if that fails, its TTL ends it). */
        private void abandonSession(Http http) {
            String old = session;
            session = null;
            if (old == null) {
                return;
            }
            try {
                http.put(port(m), "/v1/session/destroy/" + old, "");
            } catch (IOException e) {
                // the TTL ends it
            }
        }

        private void renewIfDue(Http http) {
            if (history.now() - lastRenewInvoke < Duration.ofSeconds(2).toNanos()) {
                return;
            }
            long invoke = history.now();
            try {
                Http.Response r = http.put(port(m), "/v1/session/renew/" + session, "");
                if (r.ok()) {
                    lastRenewInvoke = invoke;
                } else if (r.status() == 404) {
                    session = null;
                }
            } catch (IOException e) {
                // try again on the next step; the safe-hold bound covers the gap
            }
            if (session != null && history.now() - lastRenewInvoke > SAFE_HOLD_NANOS) {
                session = null; // expired or about to: start over with a new one
            }
        }
    }

    // ---- watches ------------------------------------------------------------------------------------------

    private void writeWatchCounter(Http http, Random rnd) {
        List<Member> members = cluster.members();
        Member m = members.get(rnd.nextInt(members.size()));
        String value = Long.toString(watchCounter.get() + 1);
        try {
            Http.Response r = http.put(port(m), "/v1/kv/" + WATCH_KEY, value);
            if (r.ok()) {
                watchCounter.incrementAndGet();
            }
        } catch (IOException e) {
            // the next write carries a newer value anyway
        }
        Pause.millis(200);
    }

    /** One blocking-query client: observations recorded as STALE_READs of its own (checked per process). */
    final class Watcher {
        final Member m;
        private int process = -1;
        private long index = 0;
        volatile String lastValue;
        volatile long lastIndex;

        Watcher(Member m) {
            this.m = m;
        }

        void step(int p, Http http) {
            process = p;
            stepAs(p, http);
        }

        /** One more blocking query as this watcher's own process (used by the final check after the run). */
        void catchUp(Http http) {
            stepAs(process, http);
        }

        private void stepAs(int p, Http http) {
            Pending op = history.invoke(Call.staleRead(p, WATCH_KEY).on("watch-" + m.name + "#" + m.starts()));
            try {
                Http.Response r = http.get(port(m), "/v1/kv/" + WATCH_KEY + "?index=" + index + "&wait=1s",
                        Duration.ofSeconds(4));
                Entry e = entry(r);
                if (e == null || r.index() < 0) {
                    op.fail();
                    Pause.millis(100);
                    return;
                }
                op.read(e.value, r.index());
                index = r.index();
                lastValue = e.value;
                lastIndex = r.index();
            } catch (IOException e) {
                op.fail();
                Pause.millis(100);
            }
        }
    }

    List<Watcher> watchers() {
        return watchers;
    }

    // ---- DNS ----------------------------------------------------------------------------------------------

    private void probeDns() {
        Name name;
        try {
            name = Name.fromString(SERVICE + ".service.weft.");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        while (running.get()) {
            for (Member m : cluster.members()) {
                if (!m.isAlive()) {
                    continue;
                }
                boolean inMinority = minority.contains(m.name);
                boolean ok = false;
                String why;
                try {
                    SimpleResolver r = new SimpleResolver(new InetSocketAddress("127.0.0.1", m.dnsPort));
                    r.setTimeout(Duration.ofSeconds(1));
                    Message answer = r.send(Message.newQuery(Record.newRecord(name, Type.A, DClass.IN)));
                    ok = answer.getRcode() == Rcode.NOERROR && answer.getSection(Section.ANSWER).size() == 1;
                    why = Rcode.string(answer.getRcode()) + " with " + answer.getSection(Section.ANSWER).size()
                            + " answers";
                } catch (IOException e) {
                    why = e.toString();
                }
                if (!m.isAlive()) {
                    continue; // killed meanwhile: not a DNS failure
                }
                dns.probes.incrementAndGet();
                if (inMinority) {
                    dns.minorityProbes.incrementAndGet();
                }
                if (!ok) {
                    dns.failed.incrementAndGet();
                    if (inMinority) {
                        dns.minorityFailed.incrementAndGet();
                    }
                    dns.lastFailure.put(m.name, why);
                }
            }
            Pause.millis(250);
        }
    }

}
