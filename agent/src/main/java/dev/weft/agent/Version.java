package dev.weft.agent;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The build's version, from {@code weft-version.properties} (filled in by Maven resource filtering). */
public final class Version {
    private static final String VERSION;
    private static final String REVISION;

    static {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("/weft-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // keep defaults
        }
        String v = p.getProperty("version", "unknown");
        VERSION = v.startsWith("${") ? "dev" : v;
        String r = p.getProperty("revision", "");
        REVISION = r.startsWith("${") ? "" : r;
    }

    private Version() {
    }

    public static String version() {
        return VERSION;
    }

    public static String revision() {
        return REVISION;
    }
}
