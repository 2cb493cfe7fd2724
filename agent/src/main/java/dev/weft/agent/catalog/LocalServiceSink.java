package dev.weft.agent.catalog;

import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.HealthStatus;
import dev.weft.registrator.RegisteredService;
import dev.weft.registrator.ServiceSink;

import java.util.Set;
import java.util.TreeSet;

/**
 * The registrator writes container services into this agent's local state, exactly as
 * {@code PUT /v1/agent/service/register} would: they get the same checks, anti-entropy and persistence. Services
 * it owns carry {@code Meta["external-source"] = "docker"}.
 */
public final class LocalServiceSink implements ServiceSink {
    private final LocalAgentState local;

    public LocalServiceSink(LocalAgentState local) {
        this.local = local;
    }

    @Override
    public void register(RegisteredService s) {
        local.addService(ServiceRegistration.parse(s.registration(), local.nodeName()), true);
    }

    @Override
    public void deregister(String serviceId) {
        local.removeService(serviceId);
    }

    @Override
    public Set<String> registeredIds() {
        Set<String> ids = new TreeSet<>();
        for (CatalogService s : local.services()) {
            if (RegisteredService.EXTERNAL_SOURCE.equals(s.meta().get(RegisteredService.EXTERNAL_SOURCE_KEY))) {
                ids.add(s.id());
            }
        }
        return ids;
    }

    @Override
    public void updateHealth(String checkId, String status, String output) {
        HealthStatus st = HealthStatus.parse(status);
        if (st == null) {
            throw new IllegalArgumentException("bad status " + status);
        }
        String problem = local.ttlUpdate(checkId, st, output);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
    }
}
