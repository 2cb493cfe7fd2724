package dev.weft.registrator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Settings of the registrator; defaults in {@link #builder}. See the module README for the flags they come from.
 *
 * @param nodeName         this agent's node name: the first part of every generated service ID
 * @param hostIp           the address registered for published ports when neither {@code forcedIp} nor a specific
 *                         host binding says otherwise (the agent's advertise address)
 * @param forcedIp         {@code -registrator-ip}: forces the address of published ports and host-network
 *                         services; null = not forced
 * @param internal         {@code -internal}: register exposed ports on the container's own address
 * @param explicit         {@code -explicit}: only ports with a service name set by metadata
 * @param resync           {@code -resync}: full reconciliation interval (60 s)
 * @param deregister       {@code -deregister}: {@link Deregister#ALWAYS} (default) or {@link Deregister#ON_SUCCESS}
 * @param tagsAlways       {@code -tags}: tags added to every service
 * @param useIpFromNetwork a network name: containers attached to it are registered with their address on it
 *                         (and their container ports) instead of the host's address; null = none
 * @param overlayNetwork   tells weft overlay networks apart (tested with a network's name and with its ID);
 *                         a container on one is registered with its overlay address; default: none
 * @param retryMin         first delay before a full resync retries a failed write or listing (1 s)
 * @param retryMax         cap of that delay, doubled per consecutive failure (30 s)
 */
public record RegistratorConfig(String nodeName, String hostIp, String forcedIp, boolean internal, boolean explicit,
                                Duration resync, Deregister deregister, List<String> tagsAlways,
                                String useIpFromNetwork, Predicate<String> overlayNetwork, Duration retryMin,
                                Duration retryMax) {

    public static final Duration DEFAULT_RESYNC = Duration.ofSeconds(60);

    /** When a stopped container's services are removed. */
    public enum Deregister {
        /** On every exit. */
        ALWAYS,
        /**
         * On exit code 0, on {@code docker stop} / {@code docker kill} (a {@code stop} event, or a {@code kill}
         * event before the {@code die}), on pause and on removal; a container that fails by itself keeps its
         * services (with its Docker health check critical) until it runs again or is removed.
         */
        ON_SUCCESS;

        /** Parses the flag's spelling: "always" or "on-success". */
        public static Deregister parse(String s) {
            return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
                case "always" -> ALWAYS;
                case "on-success", "on_success" -> ON_SUCCESS;
                default -> throw new IllegalArgumentException("deregister must be 'always' or 'on-success', got '"
                        + s + "'");
            };
        }
    }

    public RegistratorConfig {
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("nodeName is required");
        }
        if (hostIp == null || hostIp.isBlank()) {
            throw new IllegalArgumentException("hostIp is required");
        }
        forcedIp = forcedIp == null || forcedIp.isBlank() ? null : forcedIp.trim();
        useIpFromNetwork = useIpFromNetwork == null || useIpFromNetwork.isBlank() ? null : useIpFromNetwork;
        Objects.requireNonNull(resync, "resync");
        if (resync.toMillis() < 1) {
            throw new IllegalArgumentException("resync must be positive");
        }
        deregister = deregister == null ? Deregister.ALWAYS : deregister;
        tagsAlways = tagsAlways == null ? List.of() : List.copyOf(tagsAlways);
        overlayNetwork = overlayNetwork == null ? n -> false : overlayNetwork;
        retryMin = retryMin == null ? Duration.ofSeconds(1) : retryMin;
        retryMax = retryMax == null ? Duration.ofSeconds(30) : retryMax;
        if (retryMin.toMillis() < 1 || retryMax.compareTo(retryMin) < 0) {
            throw new IllegalArgumentException("need 0 < retryMin <= retryMax");
        }
    }

    /** The TTL of the Docker HEALTHCHECK passthrough check: three resync intervals, each of which re-pushes it. */
    public Duration healthTtl() {
        return resync.multipliedBy(3);
    }

    public static Builder builder(String nodeName, String hostIp) {
        return new Builder(nodeName, hostIp);
    }

    public Builder toBuilder() {
        Builder b = new Builder(nodeName, hostIp);
        b.forcedIp = forcedIp;
        b.internal = internal;
        b.explicit = explicit;
        b.resync = resync;
        b.deregister = deregister;
        b.tagsAlways = new ArrayList<>(tagsAlways);
        b.useIpFromNetwork = useIpFromNetwork;
        b.overlayNetwork = overlayNetwork;
        b.retryMin = retryMin;
        b.retryMax = retryMax;
        return b;
    }

    /** Builder with the defaults of the flags. */
    public static final class Builder {
        private final String nodeName;
        private final String hostIp;
        private String forcedIp;
        private boolean internal;
        private boolean explicit;
        private Duration resync = DEFAULT_RESYNC;
        private Deregister deregister = Deregister.ALWAYS;
        private List<String> tagsAlways = new ArrayList<>();
        private String useIpFromNetwork;
        private Predicate<String> overlayNetwork;
        private Duration retryMin = Duration.ofSeconds(1);
        private Duration retryMax = Duration.ofSeconds(30);

        private Builder(String nodeName, String hostIp) {
            this.nodeName = nodeName;
            this.hostIp = hostIp;
        }

        public Builder forcedIp(String ip) {
            this.forcedIp = ip;
            return this;
        }

        public Builder internal(boolean on) {
            this.internal = on;
            return this;
        }

        public Builder explicit(boolean on) {
            this.explicit = on;
            return this;
        }

        public Builder resync(Duration interval) {
            this.resync = interval;
            return this;
        }

        public Builder deregister(Deregister mode) {
            this.deregister = mode;
            return this;
        }

        public Builder tagsAlways(List<String> tags) {
            this.tagsAlways = new ArrayList<>(tags);
            return this;
        }

        public Builder useIpFromNetwork(String network) {
            this.useIpFromNetwork = network;
            return this;
        }

        public Builder overlayNetwork(Predicate<String> isOverlay) {
            this.overlayNetwork = isOverlay;
            return this;
        }

        public Builder retry(Duration min, Duration max) {
            this.retryMin = min;
            this.retryMax = max;
            return this;
        }

        public RegistratorConfig build() {
            return new RegistratorConfig(nodeName, hostIp, forcedIp, internal, explicit, resync, deregister,
                    tagsAlways, useIpFromNetwork, overlayNetwork, retryMin, retryMax);
        }
    }
}
