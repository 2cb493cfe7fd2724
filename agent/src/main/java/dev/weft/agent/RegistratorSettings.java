package dev.weft.agent;

import java.time.Duration;
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
 */
public record RegistratorSettings(boolean enabled, String dockerHost, String forcedIp, boolean internal,
                                  boolean explicit, Duration resync, String deregister) {
    public RegistratorSettings {
        Objects.requireNonNull(resync);
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
        return new RegistratorSettings(true, null, null, false, false, Duration.ofSeconds(60), "always");
    }

    public static RegistratorSettings off() {
        return defaults().withEnabled(false);
    }

    public RegistratorSettings withEnabled(boolean on) {
        return new RegistratorSettings(on, dockerHost, forcedIp, internal, explicit, resync, deregister);
    }

    public RegistratorSettings withDockerHost(String host) {
        return new RegistratorSettings(enabled, host, forcedIp, internal, explicit, resync, deregister);
    }

    public RegistratorSettings withForcedIp(String ip) {
        return new RegistratorSettings(enabled, dockerHost, ip, internal, explicit, resync, deregister);
    }

    public RegistratorSettings withModes(boolean internalPorts, boolean explicitOnly, String deregisterMode) {
        return new RegistratorSettings(enabled, dockerHost, forcedIp, internalPorts, explicitOnly, resync,
                deregisterMode);
    }

    public RegistratorSettings withResync(Duration interval) {
        return new RegistratorSettings(enabled, dockerHost, forcedIp, internal, explicit, interval, deregister);
    }
}
