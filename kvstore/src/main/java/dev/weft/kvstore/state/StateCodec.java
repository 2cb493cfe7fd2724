package dev.weft.kvstore.state;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Snapshot format of the whole state: magic {@code WEFTSNAP}, version, indexes, the tables, then the CRC32 of
 * everything before it. {@link #read} verifies magic, version, bounds and checksum and throws
 * {@link IOException} on any corruption; it never returns a partially read state.
 */
public final class StateCodec {
    private static final byte[] MAGIC = "WEFTSNAP".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 3;
    /** Version 2 had no ACL section; it is still read (with empty ACL tables). */
    private static final int VERSION_NO_ACL = 2;
    /** Version 1 had no catalog section; it is still read (with an empty catalog). */
    private static final int VERSION_KV_ONLY = 1;

    private StateCodec() {
    }

    public static void write(KvState state, OutputStream out) throws IOException {
        CRC32 crc = new CRC32();
        DataOutputStream d = new DataOutputStream(new CheckedOutputStream(out, crc));
        d.write(MAGIC);
        d.writeInt(VERSION);
        d.writeLong(state.lastIndex);
        d.writeLong(state.kvIndex);
        d.writeLong(state.sessionsIndex);
        d.writeInt(state.kv.size());
        for (KvEntry e : state.kv.values()) {
            writeString(d, e.key());
            d.writeInt(e.value().length);
            d.write(e.value());
            d.writeLong(e.flags());
            d.writeLong(e.createIndex());
            d.writeLong(e.modifyIndex());
            d.writeLong(e.lockIndex());
            writeString(d, e.session());
        }
        writeLongMap(d, state.tombstones);
        writeLongMap(d, state.lockDelays);
        d.writeInt(state.sessions.size());
        for (Session s : state.sessions.values()) {
            writeString(d, s.id());
            writeString(d, s.name());
            writeString(d, s.node());
            d.writeLong(s.ttlMillis());
            d.writeLong(s.lockDelayMillis());
            d.writeByte(s.behavior().ordinal());
            d.writeLong(s.createIndex());
            d.writeLong(s.modifyIndex());
            d.writeLong(s.expiresAtMillis());
        }
        CatalogCodec.writeTables(d, state.catalog);
        writeAcl(d, state.acl);
        d.flush();
        // The checksum itself is written outside the checked stream.
        new DataOutputStream(out).writeLong(crc.getValue());
        out.flush();
    }

    public static KvState read(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        DataInputStream d = new DataInputStream(new CheckedInputStream(in, crc));
        try {
            byte[] magic = new byte[MAGIC.length];
            d.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IOException("not a weft snapshot (bad magic)");
            }
            int version = d.readInt();
            if (version != VERSION && version != VERSION_NO_ACL && version != VERSION_KV_ONLY) {
                throw new IOException("unsupported snapshot version " + version);
            }
            KvState s = new KvState();
            s.lastIndex = d.readLong();
            s.kvIndex = d.readLong();
            s.sessionsIndex = d.readLong();
            int n = count(d.readInt());
            for (int i = 0; i < n; i++) {
                String key = readString(d);
                int len = d.readInt();
                if (len < 0 || len > Limits.MAX_VALUE_BYTES) {
                    throw new IOException("corrupt snapshot: value length " + len);
                }
                byte[] value = new byte[len];
                d.readFully(value);
                KvEntry e = new KvEntry(key, value, d.readLong(), d.readLong(), d.readLong(), d.readLong(),
                        readString(d));
                s.kv.put(key, e);
                s.valueBytes += len;
            }
            readLongMap(d, s.tombstones);
            readLongMap(d, s.lockDelays);
            int ns = count(d.readInt());
            Session.Behavior[] behaviors = Session.Behavior.values();
            for (int i = 0; i < ns; i++) {
                String id = readString(d);
                String name = readString(d);
                String node = readString(d);
                long ttl = d.readLong();
                long lockDelay = d.readLong();
                int b = d.readUnsignedByte();
                if (b >= behaviors.length) {
                    throw new IOException("corrupt snapshot: session behavior " + b);
                }
                s.sessions.put(id, new Session(id, name, node, ttl, lockDelay, behaviors[b], d.readLong(),
                        d.readLong(), d.readLong()));
            }
            if (version >= 2) {
                CatalogCodec.readTables(d, s.catalog);
            }
            if (version >= 3) {
                readAcl(d, s.acl);
            }
            long expected = crc.getValue();
            long stored = new DataInputStream(in).readLong();
            if (stored != expected) {
                throw new IOException("corrupt snapshot: checksum mismatch");
            }
            return s;
        } catch (EOFException e) {
            throw new IOException("corrupt snapshot: truncated", e);
        }
    }

    private static void writeAcl(DataOutputStream d, AclState acl) throws IOException {
        d.writeLong(acl.bootstrapIndex);
        d.writeLong(acl.aclIndex);
        d.writeInt(acl.policies.size());
        for (AclPolicy p : acl.policies.values()) {
            writePolicy(d, p);
        }
        d.writeInt(acl.tokens.size());
        for (AclToken t : acl.tokens.values()) {
            writeToken(d, t);
        }
    }

    private static void readAcl(DataInputStream d, AclState acl) throws IOException {
        acl.bootstrapIndex = d.readLong();
        acl.aclIndex = d.readLong();
        int np = count(d.readInt());
        for (int i = 0; i < np; i++) {
            AclPolicy p = readPolicy(d);
            acl.policies.put(p.id(), p);
        }
        int nt = count(d.readInt());
        for (int i = 0; i < nt; i++) {
            acl.putToken(readToken(d));
        }
    }

    /** Also used by the command codec. */
    public static void writePolicy(DataOutputStream d, AclPolicy p) throws IOException {
        writeString(d, p.id());
        writeString(d, p.name());
        writeString(d, p.description());
        writeString(d, p.rules());
        d.writeLong(p.createIndex());
        d.writeLong(p.modifyIndex());
    }

    public static AclPolicy readPolicy(DataInputStream d) throws IOException {
        String id = readString(d);
        String name = readString(d);
        if (id == null || name == null) {
            throw new IOException("corrupt ACL policy: missing ID or name");
        }
        return new AclPolicy(id, name, readString(d), readString(d), d.readLong(), d.readLong());
    }

    public static void writeToken(DataOutputStream d, AclToken t) throws IOException {
        writeString(d, t.accessorId());
        writeString(d, t.secretHash());
        writeString(d, t.description());
        d.writeInt(t.policyIds().size());
        for (String id : t.policyIds()) {
            writeString(d, id);
        }
        d.writeBoolean(t.local());
        d.writeLong(t.createTimeMillis());
        d.writeLong(t.createIndex());
        d.writeLong(t.modifyIndex());
    }

    public static AclToken readToken(DataInputStream d) throws IOException {
        String accessor = readString(d);
        String hash = readString(d);
        if (accessor == null || hash == null) {
            throw new IOException("corrupt ACL token: missing accessor or hash");
        }
        String description = readString(d);
        int n = count(d.readInt());
        if (n > 1024) {
            throw new IOException("corrupt ACL token: " + n + " policies");
        }
        java.util.List<String> ids = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(readString(d));
        }
        return new AclToken(accessor, hash, description, ids, d.readBoolean(), d.readLong(), d.readLong(),
                d.readLong());
    }

    private static int count(int n) throws IOException {
        if (n < 0) {
            throw new IOException("corrupt snapshot: negative count");
        }
        return n;
    }

    private static void writeLongMap(DataOutputStream d, Map<String, Long> map) throws IOException {
        d.writeInt(map.size());
        for (Map.Entry<String, Long> e : map.entrySet()) {
            writeString(d, e.getKey());
            d.writeLong(e.getValue());
        }
    }

    private static void readLongMap(DataInputStream d, Map<String, Long> map) throws IOException {
        int n = count(d.readInt());
        for (int i = 0; i < n; i++) {
            map.put(readString(d), d.readLong());
        }
    }

    static void writeString(DataOutputStream d, String s) throws IOException {
        CatalogCodec.str(d, s);
    }

    static String readString(DataInputStream d) throws IOException {
        try {
            return CatalogCodec.str(d);
        } catch (IOException e) {
            throw new IOException("corrupt snapshot: " + e.getMessage(), e);
        }
    }
}
