package dev.weft.dns;

import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnswerCacheTest {
    private static Query.CacheKey key(String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        return new Query.CacheKey().set(b, b.length, Type.A, DClass.IN, 512, 0).copy();
    }

    private static CachedResponse refused(String name) throws TextParseException {
        Record q = Record.newRecord(Name.fromString(name + "."), Type.A, DClass.IN);
        return CachedResponse.render(q, Answer.REFUSED, false, false, false, 512, new Random(1));
    }

    private static long cost(String name) throws TextParseException {
        return refused(name).bytes() + key(name).bytes() + AnswerCache.ENTRY_OVERHEAD;
    }

    @Test
    void aPreRenderedEntryCostsLittleMoreThanItsWireBytes() throws TextParseException {
        CachedResponse r = refused("name-0001");
        byte[] wire = r.pick(new Random(1));
        assertTrue(r.bytes() >= wire.length && r.bytes() < wire.length + 128, "estimate " + r.bytes());
    }

    @Test
    void startsAFreshGenerationWhenTheNextEntryWouldCrossTheByteBound() throws TextParseException {
        long c = cost("name-0000"); // every name below has the same length, hence the same cost
        AnswerCache cache = new AnswerCache(1_000, 10 * c + c / 2);
        assertNull(cache.get(7, key("name-0000")), "a query at index 7 starts its generation");
        for (int i = 0; i < 10; i++) {
            cache.put(7, key(String.format("name-%04d", i)), refused(String.format("name-%04d", i)));
        }
        assertEquals(10, cache.size());
        assertEquals(10 * c, cache.bytes());
        assertNotNull(cache.get(7, key("name-0003")));

        cache.put(7, key("name-0010"), refused("name-0010"));
        assertEquals(1, cache.size());
        assertEquals(c, cache.bytes());
        assertNull(cache.get(7, key("name-0003")), "the old generation is gone");
        assertNotNull(cache.get(7, key("name-0010")));

        for (int i = 11; i < 500; i++) {
            cache.put(7, key(String.format("name-%04d", i)), refused(String.format("name-%04d", i)));
            assertTrue(cache.bytes() <= 10 * c + c / 2);
        }
    }

    @Test
    void theEntryBoundStillApplies() throws TextParseException {
        AnswerCache cache = new AnswerCache(3, Long.MAX_VALUE);
        cache.get(1, key("n0"));
        for (int i = 0; i < 4; i++) {
            cache.put(1, key("n" + i), refused("n" + i));
        }
        assertEquals(1, cache.size());
    }

    @Test
    void anEntryLargerThanTheBoundIsNotCached() throws TextParseException {
        AnswerCache cache = new AnswerCache(100, cost("x") - 1);
        cache.get(1, key("x"));
        cache.put(1, key("x"), refused("x"));
        assertEquals(0, cache.size());
        assertEquals(0, cache.bytes());
    }

    @Test
    void replacingAnEntryDoesNotCountItTwice() throws TextParseException {
        AnswerCache cache = new AnswerCache(100, Long.MAX_VALUE);
        cache.get(1, key("a"));
        cache.put(1, key("a"), refused("a"));
        cache.put(1, key("a"), refused("a"));
        assertEquals(1, cache.size());
        assertEquals(cost("a"), cache.bytes());
    }

    @Test
    void aNewCatalogIndexEmptiesTheCache() throws TextParseException {
        AnswerCache cache = new AnswerCache(100, Long.MAX_VALUE);
        assertNull(cache.get(1, key("a")));
        cache.put(1, key("a"), refused("a"));
        assertNull(cache.get(2, key("a")));
        assertEquals(0, cache.bytes());
        cache.put(1, key("a"), refused("a"));
        assertEquals(0, cache.size(), "an answer computed at an older index is not stored");
    }
}
