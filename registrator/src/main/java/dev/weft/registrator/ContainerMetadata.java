package dev.weft.registrator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A container's registration metadata from its env and labels, in both spellings, resolved per port.
 *
 * <p>Sources, weakest first: {@code SERVICE_*} env, {@code SERVICE_*} labels, {@code weft.*} labels. A port-specific
 * key ({@code SERVICE_80_NAME}, {@code weft.service.80.name}) beats every generic one; among equally specific keys
 * the stronger source wins. Settings are normalized to lower case with '_' ({@code check_initial_status}); keys that
 * are not settings become service Meta ({@code SERVICE_REGION} → {@code region}, {@code weft.service.meta.Region} →
 * {@code Region}). Empty values count as unset.
 */
final class ContainerMetadata {
    static final String NAME = "name";
    static final String ID = "id";
    static final String TAGS = "tags";
    static final String IGNORE = "ignore";
    static final String NETWORK = "network";
    static final String PORTS = "ports";
    static final String CHECK_HTTP = "check_http";
    static final String CHECK_HTTPS = "check_https";
    static final String CHECK_TCP = "check_tcp";
    static final String CHECK_TTL = "check_ttl";
    static final String CHECK_INTERVAL = "check_interval";
    static final String CHECK_TIMEOUT = "check_timeout";
    static final String CHECK_INITIAL_STATUS = "check_initial_status";
    static final String CHECK_DEREGISTER_AFTER = "check_deregister_after";

    /** Settings: consumed, never Meta. Any other {@code check_*} key is consumed too (unsupported kinds). */
    static final Set<String> SETTINGS = Set.of(NAME, ID, TAGS, IGNORE, NETWORK, PORTS, CHECK_HTTP, CHECK_HTTPS,
            CHECK_TCP, CHECK_TTL, CHECK_INTERVAL, CHECK_TIMEOUT, CHECK_INITIAL_STATUS, CHECK_DEREGISTER_AFTER);

    static final String ENV_PREFIX = "SERVICE_";
    static final String WEFT_SERVICE_PREFIX = "weft.service.";
    static final String WEFT_NETWORK = "weft.network";
    private static final String WEFT_META = "meta.";

    private static final int RANK_ENV = 1;
    private static final int RANK_LABEL = 2;
    private static final int RANK_WEFT = 3;

    /** One key/value: {@code port} -1 for generic keys. */
    private record Entry(String key, boolean meta, int port, int rank, String value) {
        boolean beats(Entry other) {
            boolean mineSpecific = port >= 0;
            boolean theirsSpecific = other.port >= 0;
            if (mineSpecific != theirsSpecific) {
                return mineSpecific;
            }
            return rank > other.rank;
        }
    }

    private final List<Entry> entries;

    private ContainerMetadata(List<Entry> entries) {
        this.entries = entries;
    }

    static ContainerMetadata of(Map<String, String> env, Map<String, String> labels) {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            addServiceKey(out, e.getKey(), e.getValue(), RANK_ENV);
        }
        for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
            String k = e.getKey();
            if (k.startsWith(ENV_PREFIX)) {
                addServiceKey(out, k, e.getValue(), RANK_LABEL);
            } else if (k.equals(WEFT_NETWORK)) {
                add(out, NETWORK, false, -1, RANK_WEFT, e.getValue());
            } else if (k.startsWith(WEFT_SERVICE_PREFIX)) {
                addWeftKey(out, k.substring(WEFT_SERVICE_PREFIX.length()), e.getValue());
            }
        }
        return new ContainerMetadata(List.copyOf(out));
    }

    private static void addServiceKey(List<Entry> out, String key, String value, int rank) {
        if (!key.startsWith(ENV_PREFIX)) {
            return;
        }
        String rest = key.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
        int port = -1;
        int us = rest.indexOf('_');
        if (us > 0 && isDigits(rest.substring(0, us))) {
            port = parsePort(rest.substring(0, us));
            rest = rest.substring(us + 1);
            if (port < 0) {
                return;
            }
        }
        if (rest.isEmpty() || isDigits(rest)) {
            return;
        }
        add(out, rest, !isSetting(rest), port, rank, value);
    }

    private static void addWeftKey(List<Entry> out, String rest, String value) {
        int port = -1;
        int dot = rest.indexOf('.');
        if (dot > 0 && isDigits(rest.substring(0, dot))) {
            port = parsePort(rest.substring(0, dot));
            rest = rest.substring(dot + 1);
            if (port < 0) {
                return;
            }
        }
        if (rest.startsWith(WEFT_META)) {
            String metaKey = rest.substring(WEFT_META.length());
            if (!metaKey.isEmpty()) {
                add(out, metaKey, true, port, RANK_WEFT, value);
            }
            return;
        }
        String key = rest.toLowerCase(Locale.ROOT).replace('.', '_').replace('-', '_');
        if (isSetting(key)) {
            add(out, key, false, port, RANK_WEFT, value);
        }
        // other weft.service.* keys are not ours to interpret: only weft.service.meta.* becomes Meta
    }

    private static void add(List<Entry> out, String key, boolean meta, int port, int rank, String value) {
        if (value == null || value.isEmpty()) {
            return;
        }
        out.add(new Entry(key, meta, port, rank, value));
    }

    static boolean isSetting(String key) {
        return SETTINGS.contains(key) || key.startsWith("check_");
    }

    private static boolean isDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static int parsePort(String digits) {
        if (digits.length() > 5) {
            return -1;
        }
        int p = Integer.parseInt(digits);
        return p >= 1 && p <= 65535 ? p : -1;
    }

    /** The metadata that applies to the service on container port {@code port}. */
    ForPort forPort(int port) {
        Map<String, Entry> settings = new HashMap<>();
        Map<String, Entry> meta = new HashMap<>();
        for (Entry e : entries) {
            if (e.port >= 0 && e.port != port) {
                continue;
            }
            Map<String, Entry> target = e.meta ? meta : settings;
            Entry have = target.get(e.key);
            if (have == null || e.beats(have)) {
                target.put(e.key, e);
            }
        }
        return new ForPort(settings, meta);
    }

    /** A container-wide setting: generic keys only. */
    String generic(String key) {
        Entry best = null;
        for (Entry e : entries) {
            if (!e.meta && e.port < 0 && e.key.equals(key) && (best == null || e.beats(best))) {
                best = e;
            }
        }
        return best == null ? null : best.value;
    }

    /** Resolved metadata of one port. */
    static final class ForPort {
        private final Map<String, Entry> settings;
        private final Map<String, Entry> meta;

        private ForPort(Map<String, Entry> settings, Map<String, Entry> meta) {
            this.settings = settings;
            this.meta = meta;
        }

        /** The setting's value, or null when unset. */
        String get(String key) {
            Entry e = settings.get(key);
            return e == null ? null : e.value;
        }

        /** True when the setting's value came from a port-specific key. */
        boolean fromPort(String key) {
            Entry e = settings.get(key);
            return e != null && e.port >= 0;
        }

        /** Meta from metadata, sorted by key. */
        Map<String, String> meta() {
            Map<String, String> out = new TreeMap<>();
            meta.forEach((k, e) -> out.put(k, e.value));
            return out;
        }
    }
}
