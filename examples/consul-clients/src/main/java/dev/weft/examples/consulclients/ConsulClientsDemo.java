package dev.weft.examples.consulclients;

import com.google.common.net.HostAndPort;
import com.orbitz.consul.AgentClient;
import com.orbitz.consul.Consul;
import com.orbitz.consul.HealthClient;
import com.orbitz.consul.KeyValueClient;
import com.orbitz.consul.NotRegisteredException;
import com.orbitz.consul.SessionClient;
import com.orbitz.consul.model.ConsulResponse;
import com.orbitz.consul.model.agent.ImmutableRegistration;
import com.orbitz.consul.model.agent.Registration;
import com.orbitz.consul.model.health.ServiceHealth;
import com.orbitz.consul.model.kv.Value;
import com.orbitz.consul.model.session.ImmutableSession;
import com.orbitz.consul.option.ImmutableDeleteOptions;
import com.orbitz.consul.option.ImmutablePutOptions;
import com.orbitz.consul.option.QueryOptions;

import java.math.BigInteger;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What an application does with a Consul client library, against a weft agent: the KV store (put, get, list,
 * check-and-set, delete), a lock (two sessions; the second is refused while the first holds it), service
 * registration with TTL checks and discovery of the passing instances, and a blocking query that a health
 * change wakes. The library is Orbitz' {@code com.orbitz.consul:consul-client}, used as its documentation shows.
 *
 * <p>Every answer is checked: a wrong one prints {@code WRONG: …} and the program exits 1. Each step prints its
 * time; a summary follows. The agent is {@code CONSUL_HTTP_ADDR} ({@code host:port}, default 127.0.0.1:8500),
 * the variable Consul's own tools read. Everything it writes is under {@code consul-clients-demo/} and the
 * services {@code greeter-1}, {@code greeter-2}; it removes them at the end (and at the start, after a run that
 * was interrupted).
 */
public final class ConsulClientsDemo {
    private static final String PREFIX = "consul-clients-demo/";
    private static final String SERVICE = "greeter";
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final List<String> steps = new ArrayList<>();
    private final long start = System.nanoTime();
    private long stepStart = start;

    private ConsulClientsDemo() {
    }

    public static void main(String[] args) {
        String addr = Optional.ofNullable(System.getenv("CONSUL_HTTP_ADDR")).filter(s -> !s.isBlank())
                .orElse("127.0.0.1:8500");
        addr = addr.replaceFirst("^https?://", "");
        ConsulClientsDemo demo = new ConsulClientsDemo();
        try {
            demo.run(HostAndPort.fromString(addr).withDefaultPort(8500));
        } catch (Wrong e) {
            System.out.println("WRONG: " + e.getMessage());
            System.exit(1);
        } catch (RuntimeException e) {
            System.out.println("ERROR: " + e);
            System.exit(2);
        }
        System.exit(0);
    }

    private void run(HostAndPort agent) {
        // The builder pings the agent (GET /v1/status/leader) and fails when it does not answer.
        Consul consul = Consul.builder().withHostAndPort(agent).withReadTimeoutMillis(15_000).build();
        try {
            KeyValueClient kv = consul.keyValueClient();
            SessionClient sessions = consul.sessionClient();
            AgentClient agentClient = consul.agentClient();
            HealthClient health = consul.healthClient();
            String leader = consul.statusClient().getLeader();
            String node = agentClient.getAgent().getConfig().getNodeName();
            cleanUp(kv, agentClient);
            step("connected to " + agent + " (node " + node + ", Raft leader " + leader + ")");

            keyValue(kv);
            lock(kv, sessions);
            try {
                services(agentClient, health);
            } catch (NotRegisteredException e) {
                throw new Wrong("a TTL update for a registered service was refused: " + e.getMessage());
            }

            cleanUp(kv, agentClient);
            step("removed what it wrote: " + PREFIX + " and the " + SERVICE + " services");
        } finally {
            consul.destroy();
        }
        System.out.println();
        System.out.println("Summary");
        steps.forEach(s -> System.out.println("  " + s));
        System.out.printf(Locale.ROOT, "  total %.1f s%n", seconds(start));
        System.out.println();
        System.out.println("OK: KV, lock, service discovery and a blocking query all answered as Consul does");
    }

    // ---- KV: put, get, list, check-and-set, delete ----------------------------------------------------------------
    private void keyValue(KeyValueClient kv) {
        String key = PREFIX + "config/db/url";
        check(kv.putValue(key, "postgres://db-1:5432"), "PUT " + key + " answered false");
        check(kv.putValue(PREFIX + "config/db/pool", "10"), "PUT pool answered false");
        check(kv.putValue(PREFIX + "config/cache/ttl", "30s"), "PUT ttl answered false");
        String got = kv.getValueAsString(key).orElseThrow(() -> new Wrong("GET " + key + ": not found"));
        check(got.equals("postgres://db-1:5432"), "GET " + key + " = " + got);
        step("kv put/get: " + key + " = " + got);

        List<String> keys = kv.getKeys(PREFIX + "config/");
        check(keys.equals(List.of(PREFIX + "config/cache/ttl", PREFIX + "config/db/pool", PREFIX + "config/db/url")),
                "keys under config/ (sorted): " + keys);
        List<Value> db = kv.getValues(PREFIX + "config/db/");
        check(db.size() == 2, "recurse config/db/: " + db.size() + " entries");
        step("kv list: " + keys.size() + " keys under " + PREFIX + "config/, " + db.size() + " under config/db/");

        Value current = kv.getValue(key).orElseThrow(() -> new Wrong("GET " + key + ": not found"));
        long index = current.getModifyIndex();
        check(kv.putValue(key, "postgres://db-2:5432", 0, ImmutablePutOptions.builder().cas(index).build()),
                "CAS with the current ModifyIndex " + index + " was refused");
        boolean stale = kv.putValue(key, "postgres://db-3:5432", 0, ImmutablePutOptions.builder().cas(index).build());
        check(!stale, "CAS with the old ModifyIndex " + index + " succeeded");
        check(kv.getValueAsString(key).orElse("").equals("postgres://db-2:5432"), "the value after CAS");
        check(!kv.putValue(PREFIX + "config/db/url", "x", 0, ImmutablePutOptions.builder().cas(0).build()),
                "CAS with index 0 (create only) succeeded on an existing key");
        step("kv cas: with ModifyIndex " + index + " -> true, again with the same index -> false");

        kv.deleteKey(key, ImmutableDeleteOptions.builder().cas(index).build());
        check(kv.getValue(key).isPresent(), "DELETE with a stale cas index deleted the key");
        kv.deleteKey(key);
        check(kv.getValue(key).isEmpty(), "GET after DELETE found the key");
        kv.deleteKeys(PREFIX + "config/");
        check(kv.getKeys(PREFIX).isEmpty(), "keys left after the recursive DELETE: " + kv.getKeys(PREFIX));
        step("kv delete: stale cas delete refused, delete, recursive delete of config/");
    }

    // ---- a lock: sessions and acquire/release ---------------------------------------------------------------------
    private void lock(KeyValueClient kv, SessionClient sessions) {
        String key = PREFIX + "locks/leader";
        String a = sessions.createSession(ImmutableSession.builder().name("demo-a").ttl("30s").lockDelay("0s").build())
                .getId();
        String b = sessions.createSession(ImmutableSession.builder().name("demo-b").ttl("30s").lockDelay("0s").build())
                .getId();
        try {
            step("sessions created: a " + a.substring(0, 8) + "…, b " + b.substring(0, 8) + "…");
            check(kv.acquireLock(key, "held by a", a), "a could not acquire a free lock");
            boolean bGot = kv.acquireLock(key, "held by b", b);
            check(!bGot, "b acquired the lock while a holds it");
            check(kv.getSession(key).orElse("").equals(a), "the lock's Session is " + kv.getSession(key) + ", not a");
            step("lock " + key + ": a acquires -> true; b tries -> false (refused while a holds it)");
            check(!kv.releaseLock(key, b), "b released a's lock");
            check(kv.releaseLock(key, a), "a could not release its lock");
            check(kv.getSession(key).isEmpty(), "the lock still has a Session after release");
            check(kv.acquireLock(key, "held by b", b), "b could not acquire the lock a released");
            check(kv.getValueAsString(key).orElse("").equals("held by b"), "the lock's value after b acquired it");
            step("lock: a releases -> true; now b acquires -> true");
        } finally {
            sessions.destroySession(b);
            sessions.destroySession(a);
        }
        check(kv.getSession(key).isEmpty(), "destroying b's session left the lock held");
        step("sessions destroyed: the lock is free again");
    }

    // ---- services: register, discover the passing ones, a blocking query ----------------------------------------
    // The agent endpoints change the agent's own state; the agent writes it to the catalog a moment later (Consul's
    // anti-entropy sync works the same way). So after each change the program waits for the catalog with blocking
    // queries, as a Consul client should, and says how long that took.
    private void services(AgentClient agent, HealthClient health) throws NotRegisteredException {
        for (int i = 1; i <= 2; i++) {
            Registration r = ImmutableRegistration.builder().id(SERVICE + "-" + i).name(SERVICE)
                    .address("127.0.0." + (20 + i)).port(8080).addTags("v1")
                    .check(Registration.RegCheck.ttl(30L)).build();
            agent.register(r);
        }
        ConsulResponse<List<ServiceHealth>> all = await("both instances in the catalog", 2,
                index -> health.getAllServiceInstances(SERVICE, blocking(index)));
        List<ServiceHealth> none = health.getHealthyServiceInstances(SERVICE).getResponse();
        check(none.isEmpty(), "TTL checks start critical, but " + ids(none) + " are passing");
        step("registered " + SERVICE + "-1 and " + SERVICE + "-2 (TTL checks, critical until passed): "
                + all.getResponse().size() + " in the catalog, 0 passing");

        agent.pass(SERVICE + "-1");
        agent.pass(SERVICE + "-2");
        ConsulResponse<List<ServiceHealth>> passing = await("both instances passing", 2,
                index -> health.getHealthyServiceInstances(SERVICE, blocking(index)));
        List<String> found = passing.getResponse().stream()
                .map(s -> s.getService().getId() + "@" + s.getService().getAddress() + ":" + s.getService().getPort())
                .sorted().toList();
        check(found.equals(List.of(SERVICE + "-1@127.0.0.21:8080", SERVICE + "-2@127.0.0.22:8080")),
                "passing instances after both TTLs passed: " + found);
        step("both TTL checks pass: /v1/health/service/" + SERVICE + "?passing -> " + String.join(", ", found));

        // A blocking query waits at the index it saw; failing greeter-2's check changes the answer and wakes it.
        BigInteger index = passing.getIndex();
        CompletableFuture<ConsulResponse<List<ServiceHealth>>> blocked = CompletableFuture.supplyAsync(() ->
                health.getHealthyServiceInstances(SERVICE, QueryOptions.blockSeconds(10, index).build()));
        sleep(1000);
        boolean stillWaiting = !blocked.isDone();
        if (!stillWaiting) {
            // Consul may wake a blocking query for an unrelated change, but never with the index it was given.
            BigInteger early = join(blocked).getIndex();
            check(early.compareTo(index) > 0, "a blocking query at index " + index + " returned at once, index " + early);
        }
        long changed = System.nanoTime();
        agent.fail(SERVICE + "-2", "demo: going down");
        ConsulResponse<List<ServiceHealth>> woken = join(blocked);
        int wakes = 1;
        while (!ids(woken.getResponse()).equals(List.of(SERVICE + "-1")) && seconds(changed) < 10) {
            BigInteger at = woken.getIndex();
            woken = health.getHealthyServiceInstances(SERVICE, QueryOptions.blockSeconds(10, at).build());
            wakes++;
        }
        double afterChange = seconds(changed);
        List<String> left = ids(woken.getResponse());
        check(left.equals(List.of(SERVICE + "-1")), "after greeter-2 failed the passing instances are " + left);
        check(woken.getIndex().compareTo(index) > 0, "the index did not advance: " + woken.getIndex());
        step(String.format(Locale.ROOT, "blocking query at index %s (%s after 1 s) returned %.2f s after %s-2's "
                        + "check failed: passing -> %s, index %s", index,
                stillWaiting ? "still waiting" : "woken early", afterChange, SERVICE, left.get(0), woken.getIndex())
                + (wakes > 1 ? " (" + wakes + " blocking queries)" : ""));
    }

    /** Blocking queries from index 0 until the answer has {@code size} entries; WRONG after 10 s. */
    private static ConsulResponse<List<ServiceHealth>> await(String what, int size,
                                                             Function<BigInteger, ConsulResponse<List<ServiceHealth>>> query) {
        long t0 = System.nanoTime();
        BigInteger index = BigInteger.ZERO;
        while (true) {
            ConsulResponse<List<ServiceHealth>> r = query.apply(index);
            if (r.getResponse().size() == size) {
                return r;
            }
            check(seconds(t0) < 10, "no " + what + " after 10 s: " + ids(r.getResponse()));
            index = r.getIndex();
        }
    }

    private static QueryOptions blocking(BigInteger index) {
        return QueryOptions.blockSeconds(5, index).build();
    }

    private static List<String> ids(List<ServiceHealth> instances) {
        return instances.stream().map(s -> s.getService().getId()).sorted().toList();
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new Wrong("a blocking query did not return: " + e);
        }
    }

    private static void cleanUp(KeyValueClient kv, AgentClient agent) {
        kv.deleteKeys(PREFIX);
        for (int i = 1; i <= 2; i++) {
            if (agent.isRegistered(SERVICE + "-" + i)) {
                agent.deregister(SERVICE + "-" + i);
            }
        }
    }

    // ---- printing ------------------------------------------------------------------------------------------------
    private void step(String what) {
        double took = seconds(stepStart);
        stepStart = System.nanoTime();
        steps.add(String.format(Locale.ROOT, "%6.2f s  %s", took, what));
        System.out.printf(Locale.ROOT, "[%s] %-70s (%.2f s)%n", LocalTime.now().format(CLOCK), what, took);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new Wrong(what);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An answer that Consul would not give. */
    private static final class Wrong extends RuntimeException {
        Wrong(String message) {
            super(message);
        }
    }
}
