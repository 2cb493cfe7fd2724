package dev.weft.kvstore.state;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One service instance on one node. {@code address} empty means "the node's address" (as in Consul);
 * weights default to passing 1, warning 1. Indexes are 0 inside commands.
 */
public record CatalogService(String node, String id, String service, List<String> tags, String address, int port,
                             Map<String, String> meta, int weightPassing, int weightWarning,
                             boolean enableTagOverride, long createIndex, long modifyIndex) {
    public CatalogService {
        Objects.requireNonNull(node);
        Objects.requireNonNull(id);
        Objects.requireNonNull(service);
        tags = tags == null ? List.of() : List.copyOf(tags);
        address = address == null ? "" : address;
        meta = Catalogs.sorted(meta);
    }

    public CatalogService withIndexes(long create, long modify) {
        return new CatalogService(node, id, service, tags, address, port, meta, weightPassing, weightWarning,
                enableTagOverride, create, modify);
    }

    public CatalogService withNode(String newNode) {
        return new CatalogService(newNode, id, service, tags, address, port, meta, weightPassing, weightWarning,
                enableTagOverride, createIndex, modifyIndex);
    }

    public boolean sameContent(CatalogService o) {
        return o != null && node.equals(o.node) && id.equals(o.id) && service.equals(o.service)
                && tags.equals(o.tags) && address.equals(o.address) && port == o.port && meta.equals(o.meta)
                && weightPassing == o.weightPassing && weightWarning == o.weightWarning
                && enableTagOverride == o.enableTagOverride;
    }

    /** Case-insensitive tag match, as Consul's catalog and DNS do. */
    public boolean hasTag(String tag) {
        for (String t : tags) {
            if (t.equalsIgnoreCase(tag)) {
                return true;
            }
        }
        return false;
    }
}
