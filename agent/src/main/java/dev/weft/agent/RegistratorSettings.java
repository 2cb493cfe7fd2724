package dev.weft.agent;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the container registrator (flags of the same names).
 *
 * @param enabled     {@code -registrator} (default true): runs when Docker answers at {@code dockerHost}
 * @param dockerHost  {@code -docker-host unix://PATH|tcp://HOST:PORT}, else {@code $DOCKER_HOST}, else
 *                    {@code unix:///var/run/docker.sock}; null = that default
 * @param forcedIp    {@code -registrator-ip}: the address registered for published ports, or null
 * @param internal    {@code -internal}: register exposed ports on the container's address, not published ones
 * @param explicit    {@code -explicit}: only containers with a SERVICE_NAME (or weft.service.name)
 * @param resync      {@code -resync}: full reconciliation interval (60s)
 * @param deregister  {@code -deregister always|on-success}
 * @param tags        {@code -tags}: tags added to every service (Registrator's {@code -tags})
 * @param useIpFromNetwork {@code -use-ip-from-network}: containers on this Docker network are registered with
 *                    their address on it (Registrator's {@code -useIpFromNetwork}); null = none
 */
public record RegistratorSettings(boolean enabled, String dockerHost, String forcedIp, boolean internal,
                                  boolean explicit, Duration resync, String deregister, List<String> tags,
                                  String useIpFromNetwork) {
    public RegistratorSettings {
        Objects.requireNonNull(resync);
        tags = tags == null ? List.of() : List.copyOf(tags);
        for (String t : tags) {
            if (t.isBlank()) {
                throw new IllegalArgumentException("-tags must not contain an empty tag");
            }
        }
        useIpFromNetwork = useIpFromNetwork == null || useIpFromNetwork.isBlank() ? null : useIpFromNetwork;
        if (resync.toMillis() < 1000) {
            throw new IllegalArgumentException("resync must be at least 1s");
        }
        deregister = deregister == null ? "always" : deregister;
        if (!deregister.equals("always") && !deregister.equals("on-success")) {
            throw new IllegalArgumentException("deregister must be 'always' or 'on-success', got '" + deregister
                    + "'");
        }
    }

    public static RegistratorSettings defaults() {
        return new RegistratorSettings(true, null, null, false, false, Duration.ofSeconds(60), "always", List.of(),
                null);
    }

    public static RegistratorSettings off() {
        return defaults().withEnabled(false);
    }

    public RegistratorSettings withEnabled(boolean on) {
        return new RegistratorSettings(on, dockerHost, forcedIp, internal, explicit, resync, deregister, tags,
                useIpFromNetwork);
    }

    public RegistratorSettings withDockerHost(String host) {
        return new RegistratorSettings(enabled, host, forcedIp, internal, explicit, resync, deregister, tags,
                useIpFromNetwork);
    }

    public RegistratorSettings withForcedIp(String ip) {
        return new RegistratorSettings(enabled, dockerHost, ip, internal, explicit, resync, deregister, tags,
                useIpFromNetwork);
    }

    public RegistratorSettings withModes(boolean internalPorts, boolean explicitOnly, String deregisterMode) {
        return new RegistratorSettings(enabled, dockerHost, forcedIp, internalPorts, explicitOnly, resync,
                deregisterMode, tags, useIpFromNetwork);
    }

    public RegistratorSettings withResync(Duration interval) {
        return new RegistratorSettings(enabled, dockerHost, forcedIp, internal, explicit, interval, deregister,
                tags, useIpFromNetwork);
    }

    /** {@code -tags} and {@code -use-ip-from-network}. */
    public RegistratorSettings withTags(List<String> always, String ipFromNetwork) {
        return new RegistratorSettings(enabled, dockerHost, forcedIp, internal, explicit, resync, deregister, always,
                ipFromNetwork);
    }
}
