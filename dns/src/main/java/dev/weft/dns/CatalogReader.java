package dev.weft.dns;

import dev.weft.kvstore.state.CatalogView;

import java.util.function.Function;

/**
 * How the DNS server reads the agent's local catalog view: under the state's read lock, without any network
 * round trip (so answers keep coming while the servers are unreachable). The agent passes
 * {@code f -> store.read(v -> f.apply(v.catalog()))}; tests pass a plain {@code KvState}.
 */
@FunctionalInterface
public interface CatalogReader {
    <T> T read(Function<CatalogView, T> reader);

    /**
     * {@link CatalogView#catalogIndex()}, asked once per query to validate the answer cache. The agent answers it
     * without taking the read lock; this default reads it under the lock.
     */
    default long catalogIndex() {
        return read(CatalogView::catalogIndex);
    }
}
