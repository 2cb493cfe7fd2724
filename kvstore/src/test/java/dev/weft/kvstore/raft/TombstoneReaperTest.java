package dev.weft.kvstore.raft;

import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TombstoneReaperTest {

    @Test
    void reapsWhatWasDeletedBeforeTheTtl() {
        KvState state = new KvState();
        state.apply(1, new Command.KvSet("a", new byte[]{1}, 0, Command.NO_CAS));
        state.apply(2, new Command.KvDelete("a", false, Command.NO_CAS));
        TombstoneReaper reaper = new TombstoneReaper(Duration.ofMinutes(15));
        long t0 = 1_000_000;
        assertEquals(List.of(), reaper.due(state, t0));
        state.apply(3, new Command.KvSet("b", new byte[]{1}, 0, Command.NO_CAS));
        assertEquals(List.of(), reaper.due(state, t0 + 60_000));
        assertEquals(List.of(), reaper.due(state, t0 + 899_999), "not before the TTL");
        assertEquals(List.of(new Command.ReapTombstones(2)), reaper.due(state, t0 + 900_000));
        state.apply(4, new Command.ReapTombstones(2));
        assertEquals(0, state.tombstoneCount());
        assertEquals(List.of(), reaper.due(state, t0 + 960_000), "nothing left to reap");
    }
}
