package dev.weft.agent.packaging;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded {@code target/weft.jar} as the launcher runs it. It is not a multi-release jar, so a service provider
 * whose class exists only under {@code META-INF/versions/N/} cannot load: dnsjava's name-resolver provider made
 * every host name lookup fail on JDK 18+ (found by ExamplesIT on Temurin 25, 2026-12-07).
 */
class ShadedJarIT {
    private static final Path JAR = Path.of("target", "weft.jar");

    @Test
    void everyRegisteredServiceProviderIsInTheJarItself() throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " (built in the package phase)");
        List<String> missing = new ArrayList<>();
        int providers = 0;
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertFalse(jar.isMultiRelease(), "the checks below assume a jar that is not multi-release");
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (e.isDirectory() || !e.getName().startsWith("META-INF/services/")) {
                    continue;
                }
                try (BufferedReader r = new BufferedReader(new InputStreamReader(jar.getInputStream(e),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        String cls = line.replaceAll("#.*", "").trim();
                        if (cls.isEmpty()) {
                            continue;
                        }
                        providers++;
                        if (jar.getJarEntry(cls.replace('.', '/') + ".class") == null) {
                            missing.add(e.getName() + ": " + cls);
                        }
                    }
                }
            }
        }
        assertTrue(providers > 0, "the jar registers no services at all: wrong jar?");
        assertEquals(List.of(), missing, "service providers whose class is not in the jar");
    }

    /** A host name lookup in a JVM running the jar (the JVM that runs the tests; 17 by default, 25 in a CI variant). */
    @Test
    void hostNamesResolveInAJvmRunningTheJar() throws Exception {
        // In a directory of its own: from JDK 22 the source launcher also reads classes and resources beside it.
        Path dir = Files.createTempDirectory("weft-resolve");
        Path src = dir.resolve("Resolve.java");
        try {
            Files.writeString(src, "public class Resolve { public static void main(String[] a) throws Exception {"
                    + " System.out.println(java.net.InetAddress.getByName(\"localhost\").isLoopbackAddress()); } }");
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process p = new ProcessBuilder(java.toString(), "-cp", JAR.toString(), src.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the JVM did not exit");
            assertEquals(0, p.exitValue(), out);
            assertEquals("true", out.trim(), out);
        } finally {
            Files.deleteIfExists(src);
            Files.deleteIfExists(dir);
        }
    }
}
