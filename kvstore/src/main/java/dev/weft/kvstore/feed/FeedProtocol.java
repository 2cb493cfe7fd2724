package dev.weft.kvstore.feed;

import dev.weft.kvstore.RaftStatus;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The servers' internal HTTP endpoints that client agents use, shared by both sides.
 *
 * <ul>
 *   <li>{@code GET /v1/internal/feed?index=N&wait=MS[&snapshot]}: the commands committed after index
 *       {@code N} ({@link #KIND_ENTRIES}; body: repeated {@code int64 index, int32 length, bytes}), waiting up
 *       to {@code wait} ms when there are none yet; or, when the server no longer holds them (or
 *       {@code snapshot} is given), the whole state in {@code StateCodec}'s format ({@link #KIND_SNAPSHOT}).
 *       Headers: {@code X-Consul-Index} (the index the answer brings the reader to),
 *       {@code X-Consul-KnownLeader}, {@code X-Consul-LastContact} (the server's own), {@link #H_LEADER},
 *       {@link #H_SERVERS}.</li>
 *   <li>{@code PUT /v1/internal/apply}: body = one encoded command; answers its encoded result and
 *       {@code X-Consul-Index} = the log index it was applied at. 503 "No cluster leader" when no leader could
 *       be reached in time.</li>
 *   <li>{@code GET /v1/internal/barrier}: a read barrier (ReadIndex) on the server; answers, in
 *       {@code X-Consul-Index}, an index that a reader must have applied to be linearizable.</li>
 * </ul>
 */
public final class FeedProtocol {
    public static final String FEED = "/v1/internal/feed";
    public static final String APPLY = "/v1/internal/apply";
    public static final String BARRIER = "/v1/internal/barrier";
    /**
     * Feed parameter: answer once the entries reach this index even if they are all heartbeat-only (a client
     * waiting for a write's index or a ReadIndex asks for them at once).
     */
    public static final String THROUGH = "through";

    public static final String H_KIND = "X-Weft-Feed";
    public static final String KIND_ENTRIES = "entries";
    public static final String KIND_SNAPSHOT = "snapshot";
    /** {@code id address} of the leader the server knows (empty when none). */
    public static final String H_LEADER = "X-Weft-Leader";
    /** The Raft servers: {@code id raftAddress httpAddress voter} per server, separated by commas. */
    public static final String H_SERVERS = "X-Weft-Servers";
    public static final String H_TERM = "X-Weft-Term";
    /** Catalog node meta a server publishes: its Raft address and where its HTTP API listens. */
    public static final String META_RAFT_ADDR = "weft-raft-addr";
    public static final String META_HTTP_ADDR = "weft-http-addr";
    /**
     * Where a server's HTTPS API listens (only with {@code -https-port}). A feed answered over HTTPS carries these
     * addresses in {@link #H_SERVERS} instead of the HTTP ones, so TLS clients stay on TLS.
     */
    public static final String META_HTTPS_ADDR = "weft-https-addr";

    /** Longest wait a feed request may ask for. */
    public static final long MAX_WAIT_MILLIS = 60_000;
    /** Bytes of entries in one feed answer (at least one entry is always sent). */
    public static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;

    private FeedProtocol() {
    }

    /** One Raft server as clients know it: its HTTP address is where they send requests (may be empty). */
    public record Server(String id, String raftAddress, String httpAddress, boolean voter) {
    }

    public static byte[] encodeEntries(List<ChangeFeed.Entry> entries) {
        int size = 0;
        for (ChangeFeed.Entry e : entries) {
            size += 12 + e.data().length;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            for (ChangeFeed.Entry e : entries) {
                out.writeLong(e.index());
                out.writeInt(e.data().length);
                out.write(e.data());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws IllegalArgumentException on a truncated or malformed body */
    public static List<ChangeFeed.Entry> decodeEntries(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body);
        List<ChangeFeed.Entry> out = new ArrayList<>();
        long previous = Long.MIN_VALUE;
        while (b.hasRemaining()) {
            if (b.remaining() < 12) {
                throw new IllegalArgumentException("truncated feed entry header");
            }
            long index = b.getLong();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new IllegalArgumentException("feed entry " + index + " length " + len + " exceeds the body");
            }
            if (index <= previous) {
                throw new IllegalArgumentException("feed entry indexes not increasing at " + index);
            }
            byte[] data = new byte[len];
            b.get(data);
            out.add(new ChangeFeed.Entry(index, data));
            previous = index;
        }
        return out;
    }

    public static String encodeServers(List<Server> servers) {
        StringBuilder sb = new StringBuilder();
        for (Server s : servers) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(s.id()).append(' ').append(s.raftAddress()).append(' ')
                    .append(s.httpAddress().isEmpty() ? "-" : s.httpAddress()).append(' ').append(s.voter());
        }
        return sb.toString();
    }

    /** Lenient: malformed items are skipped. */
    public static List<Server> decodeServers(String header) {
        List<Server> out = new ArrayList<>();
        if (header == null || header.isBlank()) {
            return out;
        }
        for (String item : header.split(",")) {
            String[] f = item.trim().split(" ");
            if (f.length != 4) {
                continue;
            }
            out.add(new Server(f[0], f[1], f[2].equals("-") ? "" : f[2], Boolean.parseBoolean(f[3])));
        }
        return out;
    }

    /** The peers of a status as {@link RaftStatus.Peer}s. */
    public static List<RaftStatus.Peer> peers(List<Server> servers) {
        List<RaftStatus.Peer> out = new ArrayList<>();
        for (Server s : servers) {
            out.add(new RaftStatus.Peer(s.id(), s.raftAddress(), s.voter()));
        }
        return out;
    }
}
