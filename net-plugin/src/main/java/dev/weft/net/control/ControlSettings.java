package dev.weft.net.control;

import dev.weft.kvstore.state.Limits;
import dev.weft.net.netlink.IpPrefix;

import java.time.Duration;
import java.util.Objects;

/**
 * Typed configuration of the overlay's control plane, with the defaults in {@link #defaults()}.
 *
 * @param clusterRange         the pool that networks created without a CIDR are carved from
 * @param poolNetworkLength    prefix length of a network carved from the pool
 * @param defaultSubnetLength  prefix length of each host's subnet when a network does not say
 * @param vniBase              first VNI given to networks created without one
 * @param sessionTtl           TTL of a host's session (its leases go when it expires); renewed every TTL/3
 * @param maxAttempts          how often a write that lost a compare-and-set race is retried before giving up
 */
public record ControlSettings(IpPrefix clusterRange, int poolNetworkLength, int defaultSubnetLength, int vniBase,
                              Duration sessionTtl, int maxAttempts) {

    public static final IpPrefix DEFAULT_CLUSTER_RANGE = IpPrefix.parse("10.192.0.0/12");
    public static final int DEFAULT_POOL_NETWORK_LENGTH = 16;
    public static final int DEFAULT_SUBNET_LENGTH = 24;
    public static final int DEFAULT_VNI_BASE = 4096;
    public static final Duration DEFAULT_SESSION_TTL = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_ATTEMPTS = 64;

    public ControlSettings {
        Objects.requireNonNull(clusterRange, "clusterRange");
        Objects.requireNonNull(sessionTtl, "sessionTtl");
        if (!clusterRange.isIpv4()) {
            throw new IllegalArgumentException("the cluster range must be IPv4: " + clusterRange);
        }
        if (poolNetworkLength < clusterRange.length() || poolNetworkLength > 30) {
            throw new IllegalArgumentException("pool network length " + poolNetworkLength
                    + " must be between the cluster range's " + clusterRange.length() + " and 30");
        }
        if (defaultSubnetLength < 1 || defaultSubnetLength > 30) {
            throw new IllegalArgumentException("default subnet length " + defaultSubnetLength + " out of range");
        }
        if (vniBase < 1 || vniBase > 0xFFFFFF) {
            throw new IllegalArgumentException("VNI base out of range: " + vniBase);
        }
        long ttl = sessionTtl.toMillis();
        if (ttl < Limits.MIN_SESSION_TTL_MILLIS || ttl > Limits.MAX_SESSION_TTL_MILLIS) {
            throw new IllegalArgumentException("session TTL " + sessionTtl + " must be between 10s and 24h");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be positive: " + maxAttempts);
        }
    }

    public static ControlSettings defaults() {
        return new ControlSettings(DEFAULT_CLUSTER_RANGE, DEFAULT_POOL_NETWORK_LENGTH, DEFAULT_SUBNET_LENGTH,
                DEFAULT_VNI_BASE, DEFAULT_SESSION_TTL, DEFAULT_MAX_ATTEMPTS);
    }

    public ControlSettings withClusterRange(IpPrefix range) {
        return new ControlSettings(range, poolNetworkLength, defaultSubnetLength, vniBase, sessionTtl, maxAttempts);
    }

    public ControlSettings withPoolNetworkLength(int length) {
        return new ControlSettings(clusterRange, length, defaultSubnetLength, vniBase, sessionTtl, maxAttempts);
    }

    public ControlSettings withVniBase(int base) {
        return new ControlSettings(clusterRange, poolNetworkLength, defaultSubnetLength, base, sessionTtl, maxAttempts);
    }

    public ControlSettings withSessionTtl(Duration ttl) {
        return new ControlSettings(clusterRange, poolNetworkLength, defaultSubnetLength, vniBase, ttl, maxAttempts);
    }

    /** How often a host renews its session: a third of the TTL, so two renewals may fail before it expires. */
    public Duration renewInterval() {
        return sessionTtl.dividedBy(3);
    }
}
