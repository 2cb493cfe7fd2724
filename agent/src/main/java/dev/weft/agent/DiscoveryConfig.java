package dev.weft.agent;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Catalog, health and DNS settings of an agent (flags of the same names).
 *
 * @param checkUpdateInterval  a check whose output alone changed is written at most this often (5m, as Consul)
 * @param nodeHealthTimeout    an agent not heard from this long is marked critical by the leader (10s)
 * @param antiEntropyInterval  full comparison of this agent's services with the catalog (60s)
 * @param dnsAddr              DNS bind address (the HTTP client address by default)
 * @param dnsPort              DNS port, UDP and TCP (8600; 0 = ephemeral; -1 = no DNS server)
 * @param domain               DNS domain ("weft.")
 * @param altDomain            second domain answered the same way (e.g. "consul."), or null
 * @param recursors            upstream resolvers for other names (none: such names are REFUSED)
 * @param dnsOnlyPassing       answer only passing instances (default: all but critical)
 * @param dnsNodeTtl           TTL of node records (0)
 * @param dnsServiceTtl        TTL of service records by service name, "*" and "prefix*" allowed (0)
 * @param registrator          the container registrator's settings
 * @param dnsRateLimit         DNS answers per second per client IP address (0 = no limit)
 */
public record DiscoveryConfig(Duration checkUpdateInterval, Duration nodeHealthTimeout, Duration antiEntropyInterval,
                              String dnsAddr, int dnsPort, String domain, String altDomain, List<String> recursors,
                              boolean dnsOnlyPassing, Duration dnsNodeTtl, Map<String, Duration> dnsServiceTtl,
                              RegistratorSettings registrator, double dnsRateLimit) {
    public static final int DEFAULT_DNS_PORT = 8600;
    public static final String DEFAULT_DOMAIN = "weft.";

    public DiscoveryConfig {
        Objects.requireNonNull(checkUpdateInterval);
        Objects.requireNonNull(nodeHealthTimeout);
        Objects.requireNonNull(antiEntropyInterval);
        recursors = List.copyOf(recursors);
        Objects.requireNonNull(registrator);
        dnsServiceTtl = Map.copyOf(dnsServiceTtl);
        if (nodeHealthTimeout.toMillis() < 2000) {
            throw new IllegalArgumentException("node-health-timeout must be at least 2s");
        }
        if (checkUpdateInterval.isNegative()) {
            throw new IllegalArgumentException("check-update-interval must not be negative");
        }
        if (antiEntropyInterval.toMillis() < 1000) {
            throw new IllegalArgumentException("anti-entropy interval must be at least 1s");
        }
        if (dnsPort < -1 || dnsPort > 65535) {
            throw new IllegalArgumentException("DNS port out of range: " + dnsPort);
        }
        if (domain == null || domain.isBlank()) {
            throw new IllegalArgumentException("domain must not be empty");
        }
        domain = fqdn(domain);
        altDomain = altDomain == null || altDomain.isBlank() ? null : fqdn(altDomain);
        if (!(dnsRateLimit >= 0) || Double.isInfinite(dnsRateLimit)) {
            throw new IllegalArgumentException("dns-rate-limit must be a number of queries per second >= 0");
        }
    }

    private static String fqdn(String d) {
        String s = d.strip().toLowerCase(java.util.Locale.ROOT);
        while (s.startsWith(".")) {
            s = s.substring(1);
        }
        return s.endsWith(".") ? s : s + ".";
    }

    public static DiscoveryConfig defaults(String dnsAddr) {
        return new DiscoveryConfig(Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofSeconds(60), dnsAddr,
                DEFAULT_DNS_PORT, DEFAULT_DOMAIN, null, List.of(), false, Duration.ZERO, Map.of(),
                RegistratorSettings.defaults(), 0);
    }

    public DiscoveryConfig withRegistrator(RegistratorSettings r) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, dnsPort,
                domain, altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, r, dnsRateLimit);
    }

    /** How often an agent proposes its heartbeat: a quarter of the node-health timeout. */
    public Duration heartbeatInterval() {
        return nodeHealthTimeout.dividedBy(4);
    }

    public DiscoveryConfig withDnsPort(int port) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, port, domain,
                altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withDnsAddr(String addr) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, addr, dnsPort, domain,
                altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withNodeHealthTimeout(Duration timeout) {
        return new DiscoveryConfig(checkUpdateInterval, timeout, antiEntropyInterval, dnsAddr, dnsPort, domain,
                altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withCheckUpdateInterval(Duration interval) {
        return new DiscoveryConfig(interval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, dnsPort, domain,
                altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withAntiEntropyInterval(Duration interval) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, interval, dnsAddr, dnsPort, domain,
                altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withDomains(String primary, String alt) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, dnsPort,
                primary, alt, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withRecursors(List<String> upstreams) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, dnsPort,
                domain, altDomain, upstreams, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, dnsRateLimit);
    }

    public DiscoveryConfig withDnsRateLimit(double perSecond) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, dnsPort,
                domain, altDomain, recursors, dnsOnlyPassing, dnsNodeTtl, dnsServiceTtl, registrator, perSecond);
    }

    public DiscoveryConfig withDnsAnswers(boolean onlyPassing, Duration nodeTtl, Map<String, Duration> serviceTtl) {
        return new DiscoveryConfig(checkUpdateInterval, nodeHealthTimeout, antiEntropyInterval, dnsAddr, dnsPort,
                domain, altDomain, recursors, onlyPassing, nodeTtl, serviceTtl, registrator, dnsRateLimit);
    }
}
