package dev.weft.kvstore.state;

import java.util.Map;
import java.util.Objects;

/**
 * A node of the catalog (one per agent, or registered through {@code /v1/catalog/register}). Maps are sorted
 * and unmodifiable so snapshots are byte-for-byte deterministic. Indexes are 0 inside commands.
 */
public record CatalogNode(String node, String id, String address, Map<String, String> taggedAddresses,
                          Map<String, String> meta, long createIndex, long modifyIndex) {
    public CatalogNode {
        Objects.requireNonNull(node);
        id = id == null ? "" : id;
        address = address == null ? "" : address;
        taggedAddresses = Catalogs.sorted(taggedAddresses);
        meta = Catalogs.sorted(meta);
    }

    public CatalogNode withIndexes(long create, long modify) {
        return new CatalogNode(node, id, address, taggedAddresses, meta, create, modify);
    }

    public boolean sameContent(CatalogNode o) {
        return o != null && node.equals(o.node) && id.equals(o.id) && address.equals(o.address)
                && taggedAddresses.equals(o.taggedAddresses) && meta.equals(o.meta);
    }
}
