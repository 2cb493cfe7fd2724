package dev.weft.kvstore.codec;

import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogCodec;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvEntry;
import dev.weft.kvstore.state.Result;
import dev.weft.kvstore.state.Session;
import dev.weft.kvstore.state.StateCodec;
import dev.weft.kvstore.state.TxnOp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary encoding of commands (Raft log entries) and of results (Raft replies): a tag byte, then the fields
 * in order; strings and byte arrays are length-prefixed (-1 = null). Decoding rejects unknown tags, bad
 * lengths and trailing bytes with {@link IllegalArgumentException}.
 */
public final class CommandCodec {
    private static final int MAX_BYTES = 64 << 20;

    private CommandCodec() {
    }

    // Command tags: never reuse or renumber; they are in every Raft log on disk.
    private static final int KV_SET = 1, KV_DELETE = 2, KV_ACQUIRE = 3, KV_RELEASE = 4, TXN = 5,
            SESSION_CREATE = 6, SESSION_RENEW = 7, SESSION_DESTROY = 8, SESSION_EXPIRE = 9, RESTORE = 10,
            REAP_TOMBSTONES = 11, BATCH = 12, CATALOG_REGISTER = 13, CATALOG_DEREGISTER = 14, CHECK_STATUS = 15,
            NODE_HEARTBEAT = 16, ACL_BOOTSTRAP = 17, ACL_POLICY_SET = 18, ACL_POLICY_DELETE = 19, ACL_TOKEN_SET = 20,
            ACL_TOKEN_DELETE = 21;
    // Result tags.
    private static final int R_BOOL = 1, R_SESSION = 2, R_TXN = 3, R_INVALID = 4, R_BATCH = 5;

    public static byte[] encode(Command command) {
        return write(d -> {
            if (command instanceof Command.KvSet c) {
                d.writeByte(KV_SET);
                str(d, c.key());
                bytes(d, c.value());
                d.writeLong(c.flags());
                d.writeLong(c.cas());
            } else if (command instanceof Command.KvDelete c) {
                d.writeByte(KV_DELETE);
                str(d, c.key());
                d.writeBoolean(c.recurse());
                d.writeLong(c.cas());
            } else if (command instanceof Command.KvAcquire c) {
                d.writeByte(KV_ACQUIRE);
                str(d, c.key());
                bytes(d, c.value());
                d.writeLong(c.flags());
                str(d, c.session());
                d.writeLong(c.nowMillis());
            } else if (command instanceof Command.KvRelease c) {
                d.writeByte(KV_RELEASE);
                str(d, c.key());
                bytes(d, c.value());
                d.writeLong(c.flags());
                str(d, c.session());
            } else if (command instanceof Command.Txn c) {
                d.writeByte(TXN);
                d.writeLong(c.nowMillis());
                d.writeInt(c.ops().size());
                for (TxnOp op : c.ops()) {
                    d.writeByte(op.verb().ordinal());
                    str(d, op.key());
                    bytes(d, op.value());
                    d.writeLong(op.flags());
                    d.writeLong(op.index());
                    str(d, op.session());
                }
            } else if (command instanceof Command.SessionCreate c) {
                d.writeByte(SESSION_CREATE);
                str(d, c.id());
                str(d, c.name());
                str(d, c.node());
                d.writeLong(c.ttlMillis());
                d.writeLong(c.lockDelayMillis());
                d.writeByte(c.behavior().ordinal());
                d.writeLong(c.nowMillis());
            } else if (command instanceof Command.SessionRenew c) {
                d.writeByte(SESSION_RENEW);
                str(d, c.id());
                d.writeLong(c.nowMillis());
            } else if (command instanceof Command.SessionDestroy c) {
                d.writeByte(SESSION_DESTROY);
                str(d, c.id());
                d.writeLong(c.nowMillis());
            } else if (command instanceof Command.SessionExpire c) {
                d.writeByte(SESSION_EXPIRE);
                str(d, c.id());
                d.writeLong(c.nowMillis());
            } else if (command instanceof Command.Restore c) {
                d.writeByte(RESTORE);
                bytes(d, c.snapshot());
            } else if (command instanceof Command.Batch c) {
                d.writeByte(BATCH);
                d.writeInt(c.commands().size());
                for (Command sub : c.commands()) {
                    bytes(d, encode(sub));
                }
            } else if (command instanceof Command.ReapTombstones c) {
                d.writeByte(REAP_TOMBSTONES);
                d.writeLong(c.upToIndex());
            } else if (command instanceof Command.CatalogRegister c) {
                d.writeByte(CATALOG_REGISTER);
                CatalogCodec.writeNode(d, c.node());
                d.writeBoolean(c.service() != null);
                if (c.service() != null) {
                    CatalogCodec.writeService(d, c.service());
                }
                d.writeInt(c.checks().size());
                for (CatalogCheck ch : c.checks()) {
                    CatalogCodec.writeCheck(d, ch);
                }
                d.writeBoolean(c.skipNodeUpdate());
            } else if (command instanceof Command.CatalogDeregister c) {
                d.writeByte(CATALOG_DEREGISTER);
                str(d, c.node());
                str(d, c.serviceId());
                str(d, c.checkId());
            } else if (command instanceof Command.CheckStatus c) {
                d.writeByte(CHECK_STATUS);
                str(d, c.node());
                str(d, c.checkId());
                d.writeByte(c.status().ordinal());
                str(d, c.output());
            } else if (command instanceof Command.NodeHeartbeat c) {
                d.writeByte(NODE_HEARTBEAT);
                str(d, c.node());
            } else if (command instanceof Command.AclBootstrap c) {
                d.writeByte(ACL_BOOTSTRAP);
                StateCodec.writePolicy(d, c.management());
                StateCodec.writeToken(d, c.token());
                d.writeBoolean(c.anonymous() != null);
                if (c.anonymous() != null) {
                    StateCodec.writeToken(d, c.anonymous());
                }
            } else if (command instanceof Command.AclPolicySet c) {
                d.writeByte(ACL_POLICY_SET);
                StateCodec.writePolicy(d, c.policy());
            } else if (command instanceof Command.AclPolicyDelete c) {
                d.writeByte(ACL_POLICY_DELETE);
                str(d, c.id());
            } else if (command instanceof Command.AclTokenSet c) {
                d.writeByte(ACL_TOKEN_SET);
                StateCodec.writeToken(d, c.token());
            } else if (command instanceof Command.AclTokenDelete c) {
                d.writeByte(ACL_TOKEN_DELETE);
                str(d, c.accessorId());
            } else {
                throw new IllegalArgumentException("unknown command " + command.getClass().getName());
            }
        });
    }

    /** Encodes a {@link Command.Batch} from commands already encoded with {@link #encode}, without decoding them. */
    public static byte[] encodeBatch(List<byte[]> encodedCommands) {
        return write(d -> {
            d.writeByte(BATCH);
            d.writeInt(encodedCommands.size());
            for (byte[] sub : encodedCommands) {
                bytes(d, sub);
            }
        });
    }

    public static Command decode(byte[] data) {
        return read(data, d -> {
            int tag = d.readUnsignedByte();
            return switch (tag) {
                case KV_SET -> new Command.KvSet(str(d), bytes(d), d.readLong(), d.readLong());
                case KV_DELETE -> new Command.KvDelete(str(d), d.readBoolean(), d.readLong());
                case KV_ACQUIRE -> new Command.KvAcquire(str(d), bytes(d), d.readLong(), str(d), d.readLong());
                case KV_RELEASE -> new Command.KvRelease(str(d), bytes(d), d.readLong(), str(d));
                case TXN -> {
                    long now = d.readLong();
                    int n = count(d.readInt());
                    List<TxnOp> ops = new ArrayList<>(n);
                    TxnOp.Verb[] verbs = TxnOp.Verb.values();
                    for (int i = 0; i < n; i++) {
                        int v = d.readUnsignedByte();
                        if (v >= verbs.length) {
                            throw new IllegalArgumentException("unknown txn verb " + v);
                        }
                        ops.add(new TxnOp(verbs[v], str(d), bytes(d), d.readLong(), d.readLong(), str(d)));
                    }
                    yield new Command.Txn(ops, now);
                }
                case SESSION_CREATE -> new Command.SessionCreate(str(d), str(d), str(d), d.readLong(), d.readLong(),
                        behavior(d.readUnsignedByte()), d.readLong());
                case SESSION_RENEW -> new Command.SessionRenew(str(d), d.readLong());
                case SESSION_DESTROY -> new Command.SessionDestroy(str(d), d.readLong());
                case SESSION_EXPIRE -> new Command.SessionExpire(str(d), d.readLong());
                case RESTORE -> new Command.Restore(bytes(d));
                case REAP_TOMBSTONES -> new Command.ReapTombstones(d.readLong());
                case BATCH -> {
                    int n = count(d.readInt());
                    List<Command> commands = new ArrayList<>(Math.min(n, 1024));
                    for (int i = 0; i < n; i++) {
                        byte[] sub = bytes(d);
                        if (sub == null) {
                            throw new IllegalArgumentException("null command in batch");
                        }
                        commands.add(decode(sub));
                    }
                    yield new Command.Batch(commands);
                }
                case CATALOG_REGISTER -> {
                    var node = CatalogCodec.readNode(d);
                    var service = d.readBoolean() ? CatalogCodec.readService(d) : null;
                    int n = count(d.readInt());
                    List<CatalogCheck> checks = new ArrayList<>(Math.min(n, 64));
                    for (int i = 0; i < n; i++) {
                        checks.add(CatalogCodec.readCheck(d));
                    }
                    yield new Command.CatalogRegister(node, service, checks, d.readBoolean());
                }
                case CATALOG_DEREGISTER -> new Command.CatalogDeregister(str(d), str(d), str(d));
                case CHECK_STATUS -> new Command.CheckStatus(str(d), str(d),
                        CatalogCodec.status(d.readUnsignedByte()), str(d));
                case NODE_HEARTBEAT -> new Command.NodeHeartbeat(str(d));
                case ACL_BOOTSTRAP -> new Command.AclBootstrap(StateCodec.readPolicy(d), StateCodec.readToken(d),
                        d.readBoolean() ? StateCodec.readToken(d) : null);
                case ACL_POLICY_SET -> new Command.AclPolicySet(StateCodec.readPolicy(d));
                case ACL_POLICY_DELETE -> new Command.AclPolicyDelete(nonNull(str(d)));
                case ACL_TOKEN_SET -> new Command.AclTokenSet(StateCodec.readToken(d));
                case ACL_TOKEN_DELETE -> new Command.AclTokenDelete(nonNull(str(d)));
                default -> throw new IllegalArgumentException("unknown command tag " + tag);
            };
        });
    }

    public static byte[] encodeResult(Result result) {
        return write(d -> {
            if (result instanceof Result.Bool b) {
                d.writeByte(R_BOOL);
                d.writeBoolean(b.value());
            } else if (result instanceof Result.SessionValue s) {
                d.writeByte(R_SESSION);
                Session v = s.session();
                d.writeBoolean(v != null);
                if (v != null) {
                    str(d, v.id());
                    str(d, v.name());
                    str(d, v.node());
                    d.writeLong(v.ttlMillis());
                    d.writeLong(v.lockDelayMillis());
                    d.writeByte(v.behavior().ordinal());
                    d.writeLong(v.createIndex());
                    d.writeLong(v.modifyIndex());
                    d.writeLong(v.expiresAtMillis());
                }
            } else if (result instanceof Result.Txn t) {
                d.writeByte(R_TXN);
                d.writeInt(t.results().size());
                for (KvEntry e : t.results()) {
                    str(d, e.key());
                    bytes(d, e.value());
                    d.writeLong(e.flags());
                    d.writeLong(e.createIndex());
                    d.writeLong(e.modifyIndex());
                    d.writeLong(e.lockIndex());
                    str(d, e.session());
                }
                d.writeInt(t.errors().size());
                for (Result.TxnError e : t.errors()) {
                    d.writeInt(e.opIndex());
                    str(d, e.what());
                }
            } else if (result instanceof Result.Invalid i) {
                d.writeByte(R_INVALID);
                str(d, i.message());
            } else if (result instanceof Result.Batch b) {
                d.writeByte(R_BATCH);
                d.writeInt(b.results().size());
                for (Result r : b.results()) {
                    bytes(d, encodeResult(r));
                }
            } else {
                throw new IllegalArgumentException("unknown result " + result.getClass().getName());
            }
        });
    }

    public static Result decodeResult(byte[] data) {
        return read(data, d -> {
            int tag = d.readUnsignedByte();
            return switch (tag) {
                case R_BOOL -> Result.Bool.of(d.readBoolean());
                case R_SESSION -> new Result.SessionValue(d.readBoolean()
                        ? new Session(str(d), str(d), str(d), d.readLong(), d.readLong(),
                        behavior(d.readUnsignedByte()), d.readLong(), d.readLong(), d.readLong())
                        : null);
                case R_TXN -> {
                    int n = count(d.readInt());
                    List<KvEntry> results = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        results.add(new KvEntry(str(d), bytes(d), d.readLong(), d.readLong(), d.readLong(),
                                d.readLong(), str(d)));
                    }
                    int m = count(d.readInt());
                    List<Result.TxnError> errors = new ArrayList<>(m);
                    for (int i = 0; i < m; i++) {
                        errors.add(new Result.TxnError(d.readInt(), str(d)));
                    }
                    yield new Result.Txn(results, errors);
                }
                case R_INVALID -> new Result.Invalid(str(d));
                case R_BATCH -> {
                    int n = count(d.readInt());
                    List<Result> results = new ArrayList<>(Math.min(n, 1024));
                    for (int i = 0; i < n; i++) {
                        byte[] sub = bytes(d);
                        if (sub == null) {
                            throw new IllegalArgumentException("null result in batch");
                        }
                        results.add(decodeResult(sub));
                    }
                    yield new Result.Batch(results);
                }
                default -> throw new IllegalArgumentException("unknown result tag " + tag);
            };
        });
    }

    // ---- plumbing ----------------------------------------------------------------------------------------

    private interface Writer {
        void write(DataOutputStream d) throws IOException;
    }

    private interface Reader<T> {
        T read(DataInputStream d) throws IOException;
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try {
            DataOutputStream d = new DataOutputStream(bytes);
            w.write(d);
            d.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] data, Reader<T> r) {
        ByteArrayInputStream in = new ByteArrayInputStream(data);
        try {
            T value = r.read(new DataInputStream(in));
            if (in.available() != 0) {
                throw new IllegalArgumentException("trailing bytes after encoded value: " + in.available());
            }
            return value;
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated or malformed encoding", e);
        }
    }

    private static String nonNull(String s) {
        if (s == null) {
            throw new IllegalArgumentException("missing ID");
        }
        return s;
    }

    private static Session.Behavior behavior(int ordinal) {
        Session.Behavior[] all = Session.Behavior.values();
        if (ordinal >= all.length) {
            throw new IllegalArgumentException("unknown session behavior " + ordinal);
        }
        return all[ordinal];
    }

    private static int count(int n) {
        if (n < 0 || n > MAX_BYTES) {
            throw new IllegalArgumentException("bad count " + n);
        }
        return n;
    }

    private static void str(DataOutputStream d, String s) throws IOException {
        bytes(d, s == null ? null : s.getBytes(StandardCharsets.UTF_8));
    }

    private static String str(DataInputStream d) throws IOException {
        byte[] b = bytes(d);
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    private static void bytes(DataOutputStream d, byte[] b) throws IOException {
        if (b == null) {
            d.writeInt(-1);
            return;
        }
        d.writeInt(b.length);
        d.write(b);
    }

    private static byte[] bytes(DataInputStream d) throws IOException {
        int len = d.readInt();
        if (len == -1) {
            return null;
        }
        if (len < 0 || len > MAX_BYTES || len > d.available()) {
            throw new IllegalArgumentException("bad length " + len);
        }
        byte[] b = new byte[len];
        d.readFully(b);
        return b;
    }
}
