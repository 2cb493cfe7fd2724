package dev.weft.agent;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The weft process turns Netty's leak detector off unless a level was asked for. */
class MainNettyLeakDetectionTest {
    @Test
    void offByDefaultAndKeptWhenAsked() {
        ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
        String asked = System.getProperty("io.netty.leakDetection.level");
        try {
            System.clearProperty("io.netty.leakDetection.level");
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
            Main.quietNettyLeakDetection();
            assertEquals(ResourceLeakDetector.Level.DISABLED, ResourceLeakDetector.getLevel());

            System.setProperty("io.netty.leakDetection.level", "paranoid");
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
            Main.quietNettyLeakDetection();
            assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        } finally {
            if (asked == null) {
                System.clearProperty("io.netty.leakDetection.level");
            } else {
                System.setProperty("io.netty.leakDetection.level", asked);
            }
            ResourceLeakDetector.setLevel(before);
        }
    }
}
