package dev.weft.kvstore.raft;

import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;

import java.util.List;

/**
 * A time-driven decision only the leader takes (session expiry, lease expiry, a check turning critical): given
 * the local view and the leader's clock, the commands to propose now. Runs under the view's read lock once per
 * tick on the leader only, so it must be quick and must not block; the proposals of one tick complete (or
 * time out) before the next tick, so a command is never proposed twice concurrently.
 */
@FunctionalInterface
public interface LeaderDuty {
    List<Command> due(KvReadView view, long nowMillis);

    /** The built-in duty: expire sessions whose TTL deadline has passed. */
    LeaderDuty SESSION_EXPIRY = (view, now) -> view.expiredSessions(now).stream()
            .<Command>map(s -> new Command.SessionExpire(s.id(), now))
            .toList();
}
