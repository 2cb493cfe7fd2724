package dev.weft.agent.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GoDurationTest {

    @ParameterizedTest
    @CsvSource({"10s,10000", "5m,300000", "100ms,100", "1h30m,5400000", "1.5s,1500", "0,0", "2h,7200000",
            "500us,0", "-3s,-3000"})
    void parsesGoDurations(String text, long millis) {
        assertEquals(millis, GoDuration.parse(text).toMillis());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "10", "s", "5x", "1..5s", "ms10", "-"})
    void refusesWhatGoRefuses(String text) {
        assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));
    }

    @Test
    void formatsLikeGo() {
        assertEquals("24h0m0s", GoDuration.format(Duration.ofHours(24)));
        assertEquals("1m30s", GoDuration.format(Duration.ofSeconds(90)));
        assertEquals("10s", GoDuration.format(Duration.ofSeconds(10)));
        assertEquals("500ms", GoDuration.format(Duration.ofMillis(500)));
        assertEquals("0s", GoDuration.format(Duration.ZERO));
        assertEquals("15s", GoDuration.formatSeconds(15_000));
        assertEquals("1.5s", GoDuration.formatSeconds(1_500));
        assertEquals("", GoDuration.formatSeconds(0));
    }
}
