package dev.weft.agent.http;

import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.state.KvReadView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Serves reads with Consul's consistency modes and blocking queries.
 *
 * <p>Default and {@code ?consistent} reads pass a Raft read barrier first (shared between concurrent reads, see
 * {@link SharedReadBarrier}); {@code ?stale} reads go straight to the local view. A blocking query ({@code ?index=N}) whose result index is not past N arms a one-shot watch, re-reads
 * to close the race with a write that landed meanwhile, and waits: the watch callback hops onto the channel's
 * event loop, re-reads and either answers or re-arms; a Netty timer answers with the current result after
 * {@code wait} plus up to wait/16 of jitter. No thread is held per waiter; closing the channel cancels the watch
 * and the timer. As in Consul, an N above the current index is not reset on the server: the query waits for the
 * index to pass N or for the timeout, and the client resets when it sees the index go backwards.
 *
 * <p>One client IP address may have at most {@link HttpLimits#MAX_BLOCKING_PER_CLIENT} queries waiting; one more
 * is answered 429 before it arms a watch or a timer (a query that can answer at once is never refused).
 */
final class BlockingQueries {
    private final ReplicatedStore store;
    private final SharedReadBarrier barrier;
    private final AtomicInteger waiting = new AtomicInteger();
    /** Waiting blocking queries per client IP address; an address leaves the map when its count drops to 0. */
    private final ConcurrentHashMap<InetAddress, Integer> perClient = new ConcurrentHashMap<>();
    private final Counter refused;
    private volatile int maxPerClient = HttpLimits.MAX_BLOCKING_PER_CLIENT;

    BlockingQueries(ReplicatedStore store, SharedReadBarrier barrier, MeterRegistry registry) {
        this.store = store;
        this.barrier = barrier;
        Gauge.builder("weft.http.blocking.queries", waiting, AtomicInteger::get)
                .description("Blocking queries currently waiting for a change")
                .register(registry);
        refused = Counter.builder("weft.http.blocking.refused")
                .description("Blocking queries refused with 429: their client IP had too many waiting")
                .register(registry);
    }

    int waiting() {
        return waiting.get();
    }

    /** How many blocking queries one client IP address may have waiting at once. */
    void maxPerClient(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the blocking query limit per client must be at least 1");
        }
        maxPerClient = max;
    }

    /** Counts one more waiting query of {@code client}; false (nothing counted) when it already has the most. */
    private boolean acquire(InetAddress client) {
        int max = maxPerClient;
        boolean[] ok = {false};
        perClient.compute(client, (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= max) {
                return n;
            }
            ok[0] = true;
            return count + 1;
        });
        return ok[0];
    }

    private void release(InetAddress client) {
        perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
    }

    private static InetAddress clientOf(ApiRequest req) {
        return req.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    /** Serves a read of the replicated state with the request's consistency and blocking options. */
    CompletableFuture<ApiResponse> serve(ApiRequest req, WatchTarget target, Function<KvReadView, ReadResult> reader) {
        QueryOptions opts = QueryOptions.parse(req);
        CompletableFuture<ApiResponse> out = new CompletableFuture<>();
        Query q = new Query(req, opts, target, reader, out);
        if (opts.consistency() == QueryOptions.Consistency.STALE) {
            q.start();
        } else {
            barrier.await().whenComplete((v, err) -> {
                if (err != null) {
                    out.completeExceptionally(err);
                } else {
                    q.loop.execute(q::start);
                }
            });
        }
        return out;
    }

    /** Local reads that skip the barrier and never block (cluster status endpoints); headers as for any read. */
    CompletableFuture<ApiResponse> serveLocal(ApiRequest req, Function<KvReadView, ReadResult> reader) {
        QueryOptions opts = QueryOptions.parse(req);
        CompletableFuture<ApiResponse> out = new CompletableFuture<>();
        QueryOptions local = new QueryOptions(QueryOptions.Consistency.STALE, opts.minIndex(), opts.maxWait());
        new Query(req, local, WatchTarget.any(), reader, out).start();
        return out;
    }

    /** Adds the headers of every read: index (never 0), known leader, last contact, effective consistency. */
    ApiResponse withReadHeaders(ApiResponse resp, long index, QueryOptions.Consistency consistency) {
        RaftStatus st = store.status();
        resp.header("X-Consul-Index", Long.toString(Math.max(1, index)))
                .header("X-Consul-KnownLeader", Boolean.toString(st.knownLeader()))
                .header("X-Consul-LastContact", Long.toString(Math.max(0, st.lastContactMillis())));
        if (consistency != null) {
            resp.header("X-Consul-Effective-Consistency", consistency.header());
        }
        return resp;
    }

    /** One read; all of its state is touched on the channel's event loop only. */
    private final class Query {
        final ApiRequest req;
        final QueryOptions opts;
        final WatchTarget target;
        final Function<KvReadView, ReadResult> reader;
        final CompletableFuture<ApiResponse> out;
        final EventLoop loop;
        Watches.Handle handle;
        ScheduledFuture<?> timer;
        GenericFutureListener<ChannelFuture> closeListener;
        InetAddress client;
        boolean counted;
        boolean done;

        Query(ApiRequest req, QueryOptions opts, WatchTarget target, Function<KvReadView, ReadResult> reader,
              CompletableFuture<ApiResponse> out) {
            this.req = req;
            this.opts = opts;
            this.target = target;
            this.reader = reader;
            this.out = out;
            this.loop = req.eventLoop();
        }

        void start() {
            try {
                ReadResult r = store.read(reader);
                if (!opts.blocking() || moved(r)) {
                    finish(r);
                    return;
                }
                InetAddress from = clientOf(req);
                if (from != null && !acquire(from)) {
                    refused.increment();
                    fail(new HttpError(429, HttpLimits.tooManyBlocking(maxPerClient)));
                    return;
                }
                client = from;
                counted = true;
                waiting.incrementAndGet();
                closeListener = f -> loop.execute(this::abandon);
                req.channel().closeFuture().addListener(closeListener);
                long waitNanos = opts.maxWait().toNanos();
                long jitter = ThreadLocalRandom.current().nextLong(waitNanos / 16 + 1);
                timer = loop.schedule(this::timeout, waitNanos + jitter, TimeUnit.NANOSECONDS);
                armAndCheck();
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        private boolean moved(ReadResult r) {
            return Math.max(1, r.index()) > opts.minIndex();
        }

        /** Arms the watch, then re-reads so that a write applied before the watch existed is not missed. */
        private void armAndCheck() {
            if (done) {
                return;
            }
            try {
                handle = target.arm(store.watches(), () -> loop.execute(this::armAndCheck));
                ReadResult r = store.read(reader);
                if (moved(r)) {
                    finish(r);
                }
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        private void timeout() {
            if (done) {
                return;
            }
            try {
                finish(store.read(reader));
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        private void abandon() {
            if (!done) {
                cleanUp();
                out.completeExceptionally(new CancellationException("client went away"));
            }
        }

        private void finish(ReadResult r) {
            if (done) {
                return;
            }
            cleanUp();
            ApiResponse resp;
            try {
                resp = r.render().get();
            } catch (RuntimeException e) {
                out.completeExceptionally(e);
                return;
            }
            out.complete(withReadHeaders(resp, r.index(), opts.consistency()));
        }

        private void fail(RuntimeException e) {
            if (!done) {
                cleanUp();
                out.completeExceptionally(e);
            }
        }

        private void cleanUp() {
            done = true;
            if (handle != null) {
                handle.cancel();
            }
            if (timer != null) {
                timer.cancel(false);
            }
            if (closeListener != null) {
                req.channel().closeFuture().removeListener(closeListener);
            }
            if (counted) {
                counted = false;
                waiting.decrementAndGet();
                if (client != null) {
                    release(client);
                }
            }
        }
    }
}
