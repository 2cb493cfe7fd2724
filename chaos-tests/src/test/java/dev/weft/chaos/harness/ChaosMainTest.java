package dev.weft.chaos.harness;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The profile's command line (pure logic; the harness itself is exercised by ChaosIT). */
class ChaosMainTest {

    @Test
    void parsesEveryOption() {
        ChaosMain.Profile p = ChaosMain.parse(new String[] {"--runs", "20", "--seconds", "300", "--servers", "3, 5",
            "--seed", "42", "--out", "/tmp/x", "--weft-jar", "/tmp/w.jar"});
        assertEquals(new ChaosMain.Profile(20, Duration.ofSeconds(300), List.of(3, 5), 42, Path.of("/tmp/x"),
                Path.of("/tmp/w.jar")), p);
    }

    @Test
    void refusesBadInputWithAMessage() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChaosMain.parse(new String[] {"--runs"}))
                .getMessage().contains("--runs needs a value"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ChaosMain.parse(new String[] {"--seconds", "abc"})).getMessage().contains("not a number"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ChaosMain.parse(new String[] {"--servers", "2"})).getMessage().contains("between 3 and 9"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ChaosMain.parse(new String[] {"--bogus", "1"})).getMessage().contains("unknown option"));
    }

    @Test
    void theDeckDealsEveryFaultOncePerPass() {
        Nemesis.Deck deck = new Nemesis.Deck(7);
        java.util.Set<Fault> pass = java.util.EnumSet.noneOf(Fault.class);
        for (int i = 0; i < Fault.values().length; i++) {
            pass.add(deck.next());
        }
        assertEquals(java.util.EnumSet.allOf(Fault.class), pass);
        Nemesis.Deck same = new Nemesis.Deck(7);
        Nemesis.Deck again = new Nemesis.Deck(7);
        for (int i = 0; i < 30; i++) {
            assertEquals(same.next(), again.next(), "a seed gives one schedule");
        }
    }
}
