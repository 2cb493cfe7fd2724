package dev.weft.kvstore.state;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Binary form of catalog records, shared by the command codec (Raft log) and the snapshot codec. Strings are
 * length-prefixed UTF-8 (-1 = null); every count and length is bounded on read, so corrupt input fails with
 * {@link IOException} instead of allocating without limit.
 */
public final class CatalogCodec {
    private static final int MAX_STRING = 1 << 20;
    private static final int MAX_COUNT = 1 << 24;

    private CatalogCodec() {
    }

    public static void writeNode(DataOutput d, CatalogNode n) throws IOException {
        str(d, n.node());
        str(d, n.id());
        str(d, n.address());
        map(d, n.taggedAddresses());
        map(d, n.meta());
        d.writeLong(n.createIndex());
        d.writeLong(n.modifyIndex());
    }

    public static CatalogNode readNode(DataInput d) throws IOException {
        return new CatalogNode(nonNull(d), str(d), str(d), map(d), map(d), d.readLong(), d.readLong());
    }

    public static void writeService(DataOutput d, CatalogService s) throws IOException {
        str(d, s.node());
        str(d, s.id());
        str(d, s.service());
        list(d, s.tags());
        str(d, s.address());
        d.writeInt(s.port());
        map(d, s.meta());
        d.writeInt(s.weightPassing());
        d.writeInt(s.weightWarning());
        d.writeBoolean(s.enableTagOverride());
        d.writeLong(s.createIndex());
        d.writeLong(s.modifyIndex());
    }

    public static CatalogService readService(DataInput d) throws IOException {
        return new CatalogService(nonNull(d), nonNull(d), nonNull(d), list(d), str(d), d.readInt(), map(d),
                d.readInt(), d.readInt(), d.readBoolean(), d.readLong(), d.readLong());
    }

    public static void writeCheck(DataOutput d, CatalogCheck c) throws IOException {
        str(d, c.node());
        str(d, c.checkId());
        str(d, c.name());
        d.writeByte(c.status().ordinal());
        str(d, c.notes());
        str(d, c.output());
        str(d, c.serviceId());
        str(d, c.serviceName());
        list(d, c.serviceTags());
        str(d, c.type());
        str(d, c.interval());
        str(d, c.timeout());
        d.writeLong(c.deregisterCriticalAfterMillis());
        d.writeLong(c.createIndex());
        d.writeLong(c.modifyIndex());
    }

    public static CatalogCheck readCheck(DataInput d) throws IOException {
        String node = nonNull(d);
        String id = nonNull(d);
        String name = str(d);
        HealthStatus status = status(d.readUnsignedByte());
        return new CatalogCheck(node, id, name, status, str(d), str(d), str(d), str(d), list(d), str(d), str(d),
                str(d), d.readLong(), d.readLong(), d.readLong());
    }

    public static HealthStatus status(int ordinal) throws IOException {
        HealthStatus[] all = HealthStatus.values();
        if (ordinal < 0 || ordinal >= all.length) {
            throw new IOException("bad health status " + ordinal);
        }
        return all[ordinal];
    }

    public static void str(DataOutput d, String s) throws IOException {
        if (s == null) {
            d.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.writeInt(b.length);
        d.write(b);
    }

    public static String str(DataInput d) throws IOException {
        int len = d.readInt();
        if (len == -1) {
            return null;
        }
        if (len < 0 || len > MAX_STRING) {
            throw new IOException("bad string length " + len);
        }
        byte[] b = new byte[len];
        d.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String nonNull(DataInput d) throws IOException {
        String s = str(d);
        if (s == null) {
            throw new IOException("missing required string");
        }
        return s;
    }

    public static int count(DataInput d) throws IOException {
        int n = d.readInt();
        if (n < 0 || n > MAX_COUNT) {
            throw new IOException("bad count " + n);
        }
        return n;
    }

    private static void map(DataOutput d, Map<String, String> m) throws IOException {
        d.writeInt(m.size());
        for (Map.Entry<String, String> e : m.entrySet()) {
            str(d, e.getKey());
            str(d, e.getValue());
        }
    }

    private static Map<String, String> map(DataInput d) throws IOException {
        int n = count(d);
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            m.put(nonNull(d), nonNull(d));
        }
        return m;
    }

    private static void list(DataOutput d, List<String> l) throws IOException {
        d.writeInt(l.size());
        for (String s : l) {
            str(d, s);
        }
    }

    private static List<String> list(DataInput d) throws IOException {
        int n = count(d);
        List<String> l = new ArrayList<>(Math.min(n, 64));
        for (int i = 0; i < n; i++) {
            l.add(nonNull(d));
        }
        return l;
    }

    /** Writes the catalog tables of a state (snapshot section). */
    static void writeTables(DataOutput d, CatalogState c) throws IOException {
        d.writeLong(c.nodesIndex);
        d.writeLong(c.servicesIndex);
        d.writeLong(c.checksIndex);
        d.writeInt(c.nodes.size());
        for (CatalogNode n : c.nodes.values()) {
            writeNode(d, n);
        }
        d.writeInt(c.serviceCount());
        for (Map<String, CatalogService> ofNode : c.services.values()) {
            for (CatalogService s : ofNode.values()) {
                writeService(d, s);
            }
        }
        d.writeInt(c.checkCount());
        for (Map<String, CatalogCheck> ofNode : c.checks.values()) {
            for (CatalogCheck ch : ofNode.values()) {
                writeCheck(d, ch);
            }
        }
        d.writeInt(c.serviceIndexes.size());
        for (Map.Entry<String, Long> e : c.serviceIndexes.entrySet()) {
            str(d, e.getKey());
            d.writeLong(e.getValue());
        }
    }

    static void readTables(DataInput d, CatalogState c) throws IOException {
        c.nodesIndex = d.readLong();
        c.servicesIndex = d.readLong();
        c.checksIndex = d.readLong();
        int n = count(d);
        for (int i = 0; i < n; i++) {
            CatalogNode node = readNode(d);
            c.nodes.put(node.node(), node);
        }
        n = count(d);
        for (int i = 0; i < n; i++) {
            CatalogService s = readService(d);
            c.services.computeIfAbsent(s.node(), k -> new TreeMap<>()).put(s.id(), s);
        }
        n = count(d);
        for (int i = 0; i < n; i++) {
            CatalogCheck ch = readCheck(d);
            c.checks.computeIfAbsent(ch.node(), k -> new TreeMap<>()).put(ch.checkId(), ch);
        }
        n = count(d);
        for (int i = 0; i < n; i++) {
            c.serviceIndexes.put(nonNull(d), d.readLong());
        }
        c.reindex();
    }
}
