package dev.weft.kvstore.state;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Validation and small helpers for catalog records; limits are listed in the README. */
public final class Catalogs {
    public static final int MAX_NAME_BYTES = 256;
    public static final int MAX_TAGS = 64;
    public static final int MAX_TAG_BYTES = 256;
    public static final int MAX_META_PAIRS = 64;
    public static final int MAX_META_KEY_BYTES = 128;
    public static final int MAX_META_VALUE_BYTES = 512;
    public static final int MAX_CHECKS_PER_REGISTER = 64;
    public static final int MAX_OUTPUT_BYTES = 4096;
    public static final int MAX_NOTES_BYTES = 4096;

    private Catalogs() {
    }

    static Map<String, String> sorted(Map<String, String> m) {
        if (m == null || m.isEmpty()) {
            return Collections.emptySortedMap();
        }
        TreeMap<String, String> copy = new TreeMap<>(m);
        // A null value would encode as "absent" and fail to decode from the Raft log; Go has no nil strings.
        copy.replaceAll((k, v) -> v == null ? "" : v);
        return Collections.unmodifiableSortedMap(copy);
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Cuts {@code s} to at most {@code max} UTF-8 bytes without splitting a character. */
    public static String truncate(String s, int max) {
        if (s == null) {
            return "";
        }
        if (s.length() * 3 <= max || bytes(s) <= max) {
            return s;
        }
        int end = Math.min(s.length(), max);
        while (end > 0 && bytes(s.substring(0, end)) > max) {
            end--;
        }
        if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(0, end);
    }

    static String checkName(String what, String value) {
        if (value == null || value.isEmpty()) {
            return "Missing " + what;
        }
        if (bytes(value) > MAX_NAME_BYTES) {
            return what + " too long (max " + MAX_NAME_BYTES + " bytes)";
        }
        if (value.indexOf('\0') >= 0) {
            return what + " contains NUL";
        }
        return null;
    }

    static String checkMeta(Map<String, String> meta) {
        if (meta.size() > MAX_META_PAIRS) {
            return "Node metadata cannot contain more than " + MAX_META_PAIRS + " key/value pairs";
        }
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (e.getKey().isEmpty()) {
                return "Key cannot be blank";
            }
            if (bytes(e.getKey()) > MAX_META_KEY_BYTES) {
                return "Key is too long (limit: " + MAX_META_KEY_BYTES + " characters)";
            }
            if (bytes(e.getValue()) > MAX_META_VALUE_BYTES) {
                return "Value is too long (limit: " + MAX_META_VALUE_BYTES + " characters)";
            }
        }
        return null;
    }

    static String checkTags(List<String> tags) {
        if (tags.size() > MAX_TAGS) {
            return "Too many tags (max " + MAX_TAGS + ")";
        }
        for (String t : tags) {
            if (t == null || bytes(t) > MAX_TAG_BYTES) {
                return "Tag too long (max " + MAX_TAG_BYTES + " bytes)";
            }
        }
        return null;
    }

    /** @return null when the node can be stored, else the reason */
    public static String validate(CatalogNode n) {
        String err = checkName("node name", n.node());
        if (err == null && n.address().isEmpty()) {
            err = "Must provide address";
        }
        if (err == null && bytes(n.address()) > MAX_NAME_BYTES) {
            err = "address too long";
        }
        if (err == null) {
            err = checkMeta(n.meta());
        }
        if (err == null && n.taggedAddresses().size() > MAX_META_PAIRS) {
            err = "too many tagged addresses";
        }
        return err;
    }

    /** @return null when the service can be stored, else the reason */
    public static String validate(CatalogService s) {
        String err = checkName("service name", s.service());
        if (err == null) {
            err = checkName("service ID", s.id());
        }
        if (err == null && (s.port() < 0 || s.port() > 65535)) {
            err = "Invalid service port " + s.port();
        }
        if (err == null && bytes(s.address()) > MAX_NAME_BYTES) {
            err = "service address too long";
        }
        if (err == null && s.weightPassing() < 1) {
            err = "Passing must be greater than 0";
        }
        if (err == null && s.weightWarning() < 0) {
            err = "Warning must be greater or equal than 0";
        }
        if (err == null) {
            err = checkTags(s.tags());
        }
        if (err == null) {
            err = checkMeta(s.meta());
        }
        return err;
    }

    /** @return null when the check can be stored, else the reason */
    public static String validate(CatalogCheck c) {
        String err = checkName("check ID", c.checkId());
        if (err == null && bytes(c.name()) > MAX_NAME_BYTES) {
            err = "check name too long";
        }
        if (err == null && bytes(c.output()) > MAX_OUTPUT_BYTES) {
            err = "check output exceeds " + MAX_OUTPUT_BYTES + " bytes";
        }
        if (err == null && bytes(c.notes()) > MAX_NOTES_BYTES) {
            err = "check notes exceed " + MAX_NOTES_BYTES + " bytes";
        }
        if (err == null && c.deregisterCriticalAfterMillis() < 0) {
            err = "negative DeregisterCriticalServiceAfter";
        }
        return err;
    }
}
