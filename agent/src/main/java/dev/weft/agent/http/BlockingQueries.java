package dev.weft.agent.http;

import dev.weft.kvstore.RaftStatus;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.Watches;
import dev.weft.kvstore.state.KvReadView;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.GenericFutureListener;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
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
 */
final class BlockingQueries {
    private final ReplicatedStore store;
    private final SharedReadBarrier barrier;
    private final AtomicInteger waiting = new AtomicInteger();

    BlockingQueries(ReplicatedStore store, SharedReadBarrier barrier, MeterRegistry registry) {
        this.store = store;
        this.barrier = barrier;
        Gauge.builder("weft.http.blocking.queries", waiting, AtomicInteger::get)
                .description("Blocking queries currently waiting for a change")
                .register(registry);
    }

    int waiting() {
        return waiting.get();
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
            }
        }
    }
}
