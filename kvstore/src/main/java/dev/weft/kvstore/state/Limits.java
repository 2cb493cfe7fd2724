package dev.weft.kvstore.state;

import java.nio.charset.StandardCharsets;

/** The explicit limits of the store, checked before a command is proposed and again when it is applied. */
public final class Limits {
    public static final int MAX_KEY_BYTES = 512;
    public static final int MAX_VALUE_BYTES = 512 * 1024;
    public static final int MAX_TXN_OPS = 128;
    public static final long MIN_SESSION_TTL_MILLIS = 10_000;
    public static final long MAX_SESSION_TTL_MILLIS = 86_400_000;
    public static final long MAX_LOCK_DELAY_MILLIS = 60_000;

    private Limits() {
    }

    /** @return null when the key is acceptable, else the reason (Consul-style message) */
    public static String checkKey(String key, boolean allowEmpty) {
        if (key == null || (!allowEmpty && key.isEmpty())) {
            return "Missing key name";
        }
        if (key.startsWith("/")) {
            return "Invalid key name, starts with '/'";
        }
        int len = key.getBytes(StandardCharsets.UTF_8).length;
        if (len > MAX_KEY_BYTES) {
            return "Key too long: " + len + " bytes, max " + MAX_KEY_BYTES;
        }
        if (key.indexOf('\0') >= 0) {
            return "Invalid key name, contains NUL";
        }
        return null;
    }

    /** @return null when the value is acceptable, else the reason */
    public static String checkValue(byte[] value) {
        if (value != null && value.length > MAX_VALUE_BYTES) {
            return "Value exceeds " + MAX_VALUE_BYTES + " byte limit (" + value.length + " bytes)";
        }
        return null;
    }
}
