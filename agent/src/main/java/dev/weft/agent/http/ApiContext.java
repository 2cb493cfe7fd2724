package dev.weft.agent.http;

import dev.weft.agent.catalog.LocalAgentState;
import dev.weft.kvstore.ReplicatedStore;
import dev.weft.kvstore.state.Applied;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.Result;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** What the endpoints share: the store, the agent's identity, metrics, blocking reads and a clock. */
final class ApiContext {
    final ReplicatedStore store;
    final AgentInfo agent;
    final PrometheusMeterRegistry registry;
    final SharedReadBarrier readBarrier;
    final BlockingQueries queries;
    /** For CPU-heavy work that must stay off the event loops (snapshot encoding and checking). */
    final Executor blockingExecutor;
    final Clock clock;
    /** This agent's own services and checks; null where the API runs without them (some tests). */
    final LocalAgentState local;
    /** ACL enforcement; off unless the agent runs with {@code -acl-enabled}. */
    volatile AclGate acl = AclGate.disabled();
    /** What {@code PUT /v1/agent/leave} runs (the agent's graceful leave); null where the API runs without one. */
    volatile Runnable leaveAction;
    /** What {@code PUT /v1/agent/reload} runs; null where the agent has nothing to reload. */
    volatile java.util.concurrent.Callable<String> reloadAction;
    /** A server with -verify-incoming: {@code /v1/internal/} only over HTTPS (client certificate required). */
    volatile boolean internalNeedsTls;

    ApiContext(ReplicatedStore store, AgentInfo agent, PrometheusMeterRegistry registry, Executor blockingExecutor,
               Clock clock, LocalAgentState local) {
        this.local = local;
        this.store = store;
        this.agent = agent;
        this.registry = registry;
        this.readBarrier = new SharedReadBarrier(store::readBarrier);
        this.queries = new BlockingQueries(store, readBarrier, registry);
        this.blockingExecutor = blockingExecutor;
        this.clock = clock;
    }

    long now() {
        return clock.millis();
    }

    /**
     * Proposes a command on behalf of a request: refused with 403 when the request's token may not (the one
     * check, {@link dev.weft.kvstore.acl.CommandAuthorizer}), otherwise proposed with the token so that a client
     * agent's server checks it again. A synchronous failure is turned into a failed future.
     */
    CompletableFuture<Applied> submit(ApiRequest req, Command command) {
        try {
            acl.authorize(req, command);
            return store.submit(command, req.token());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The applied result; {@link Result.Invalid} becomes a 500 with its message, as Consul answers RPC errors. */
    static Result result(Applied applied) {
        Result r = applied.result();
        if (r instanceof Result.Invalid invalid) {
            throw new HttpError(500, invalid.message());
        }
        return r;
    }

    static boolean bool(Applied applied) {
        Result r = result(applied);
        if (r instanceof Result.Bool b) {
            return b.value();
        }
        throw new IllegalStateException("unexpected result " + r.getClass().getSimpleName());
    }
}
