package dev.weft.agent.http;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.weft.kvstore.RaftStatus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster status from this member's point of view: {@code /v1/status/leader}, {@code /v1/status/peers},
 * {@code /v1/agent/self}, {@code /v1/agent/members}, {@code /v1/operator/raft/configuration}, plus the operator
 * writes {@code DELETE /v1/operator/raft/peer} and {@code POST /v1/operator/raft/transfer-leader}. Reads are local
 * (they work without a leader) and carry the usual read headers.
 */
final class ClusterEndpoint implements Endpoint {
    static final String LEADER = "/v1/status/leader";
    static final String PEERS = "/v1/status/peers";
    static final String SELF = "/v1/agent/self";
    static final String MEMBERS = "/v1/agent/members";
    static final String RAFT_CONFIGURATION = "/v1/operator/raft/configuration";
    static final String RAFT_PEER = "/v1/operator/raft/peer";
    static final String TRANSFER_LEADER = "/v1/operator/raft/transfer-leader";

    private final ApiContext ctx;

    ClusterEndpoint(ApiContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CompletableFuture<ApiResponse> handle(ApiRequest req) {
        switch (req.path()) {
            case LEADER:
                return local(req, st -> ConsulJson.string(st.knownLeader() && st.leaderAddress() != null
                        ? st.leaderAddress() : ""));
            case PEERS:
                return local(req, st -> {
                    List<String> addrs = new ArrayList<>();
                    for (RaftStatus.Peer p : st.peers()) {
                        if (p.voter()) {
                            addrs.add(p.address());
                        }
                    }
                    return ConsulJson.strings(addrs);
                });
            case SELF:
                return local(req, this::self);
            case MEMBERS:
                return local(req, st -> members(st, req));
            case RAFT_CONFIGURATION:
                return local(req, this::configuration);
            case RAFT_PEER:
                return removePeer(req);
            case TRANSFER_LEADER:
                return transferLeader(req);
            default:
                throw HttpError.notFound("404 page not found");
        }
    }

    private interface StatusBody {
        byte[] render(RaftStatus status);
    }

    private CompletableFuture<ApiResponse> local(ApiRequest req, StatusBody body) {
        return ctx.queries.serveLocal(req, view -> {
            long index = view.lastIndex();
            return new ReadResult(index, () -> ApiResponse.json(body.render(ctx.store.status())));
        });
    }

    private byte[] self(RaftStatus st) {
        AgentInfo a = ctx.agent;
        return ConsulJson.write(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("Config");
            g.writeStringField("Datacenter", a.datacenter());
            g.writeStringField("PrimaryDatacenter", a.datacenter());
            g.writeStringField("NodeName", a.nodeName());
            g.writeStringField("NodeID", a.nodeId().isEmpty() ? st.selfId() : a.nodeId());
            g.writeBooleanField("Server", a.server());
            g.writeStringField("Revision", a.revision());
            g.writeStringField("Version", a.version());
            g.writeEndObject();
            g.writeFieldName("Member");
            member(g, a.nodeName(), a.bindAddr(), a.raftPort(), st.selfId());
            g.writeObjectFieldStart("Stats");
            g.writeObjectFieldStart("agent");
            g.writeStringField("blocking_queries", Integer.toString(ctx.queries.waiting()));
            g.writeEndObject();
            g.writeObjectFieldStart("consul");
            g.writeStringField("server", Boolean.toString(a.server()));
            g.writeStringField("leader", Boolean.toString(st.isLeader()));
            g.writeStringField("leader_addr", st.leaderAddress() == null ? "" : st.leaderAddress());
            g.writeStringField("known_servers", Integer.toString(st.peers().size()));
            g.writeEndObject();
            g.writeObjectFieldStart("raft");
            g.writeStringField("state", st.isLeader() ? "Leader" : st.knownLeader() ? "Follower" : "Candidate");
            g.writeStringField("term", Long.toString(st.term()));
            g.writeStringField("commit_index", Long.toString(st.commitIndex()));
            g.writeStringField("applied_index", Long.toString(st.appliedIndex()));
            g.writeStringField("last_contact", st.lastContactMillis() < 0 ? "never"
                    : st.lastContactMillis() + "ms");
            g.writeStringField("num_peers", Integer.toString(Math.max(0, st.peers().size() - 1)));
            g.writeEndObject();
            g.writeObjectFieldStart("kv");
            int[] count = new int[1];
            long[] bytes = new long[1];
            ctx.store.read(view -> {
                count[0] = view.kvCount();
                bytes[0] = view.kvValueBytes();
                return null;
            });
            g.writeStringField("keys", Integer.toString(count[0]));
            g.writeStringField("value_bytes", Long.toString(bytes[0]));
            g.writeEndObject();
            g.writeObjectFieldStart("runtime");
            g.writeStringField("os", System.getProperty("os.name", "").toLowerCase());
            g.writeStringField("arch", System.getProperty("os.arch", ""));
            g.writeStringField("version", "java " + Runtime.version());
            g.writeStringField("cpu_count", Integer.toString(Runtime.getRuntime().availableProcessors()));
            g.writeEndObject();
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** The servers, filtered to the members whose node the token may read (ACLs, as Consul). */
    private byte[] members(RaftStatus st, ApiRequest req) {
        return ConsulJson.write(g -> {
            g.writeStartArray();
            for (RaftStatus.Peer p : st.peers()) {
                boolean self = p.id().equals(st.selfId());
                String name = self ? ctx.agent.nodeName() : p.id();
                if (!req.authz().read(dev.weft.kvstore.acl.Resource.NODE, name)) {
                    continue;
                }
                String[] hp = hostPort(p.address());
                member(g, name, hp[0], Integer.parseInt(hp[1]), p.id());
            }
            g.writeEndArray();
        });
    }

    private void member(JsonGenerator g, String name, String addr, int port, String id) throws IOException {
        g.writeStartObject();
        g.writeStringField("Name", name);
        g.writeStringField("Addr", addr);
        g.writeNumberField("Port", port);
        g.writeObjectFieldStart("Tags");
        g.writeStringField("role", "consul");
        g.writeStringField("dc", ctx.agent.datacenter());
        g.writeStringField("port", Integer.toString(port));
        g.writeStringField("id", id);
        g.writeStringField("build", ctx.agent.version());
        g.writeStringField("vsn", "2");
        g.writeEndObject();
        g.writeNumberField("Status", 1);
        g.writeNumberField("ProtocolMin", 1);
        g.writeNumberField("ProtocolMax", 5);
        g.writeNumberField("ProtocolCur", 2);
        g.writeNumberField("DelegateMin", 2);
        g.writeNumberField("DelegateMax", 5);
        g.writeNumberField("DelegateCur", 4);
        g.writeEndObject();
    }

    private byte[] configuration(RaftStatus st) {
        return ConsulJson.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("Servers");
            for (RaftStatus.Peer p : st.peers()) {
                boolean self = p.id().equals(st.selfId());
                g.writeStartObject();
                g.writeStringField("ID", p.id());
                g.writeStringField("Node", self ? ctx.agent.nodeName() : p.id());
                g.writeStringField("Address", p.address());
                g.writeBooleanField("Leader", st.knownLeader() && p.id().equals(st.leaderId()));
                g.writeStringField("ProtocolVersion", "3");
                g.writeBooleanField("Voter", p.voter());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeNumberField("Index", st.commitIndex());
            g.writeEndObject();
        });
    }

    private CompletableFuture<ApiResponse> removePeer(ApiRequest req) {
        String id = req.param("id");
        String address = req.param("address");
        if ((id == null || id.isEmpty()) && (address == null || address.isEmpty())) {
            throw HttpError.badRequest("Must specify either ?id with the server's ID or ?address with IP:port of peer "
                    + "to remove");
        }
        RaftStatus st = ctx.store.status();
        String target = null;
        for (RaftStatus.Peer p : st.peers()) {
            if ((id != null && p.id().equals(id)) || (address != null && p.address().equals(address))) {
                target = p.id();
            }
        }
        if (target == null) {
            throw new HttpError(500, id != null && !id.isEmpty()
                    ? "id \"" + id + "\" was not found in the Raft configuration"
                    : "address \"" + address + "\" was not found in the Raft configuration");
        }
        String peer = target;
        return future(() -> ctx.store.removePeer(peer)).thenApply(v -> ApiResponse.empty(200));
    }

    private CompletableFuture<ApiResponse> transferLeader(ApiRequest req) {
        String id = id(req, "id", null);
        if (id != null) {
            boolean known = ctx.store.status().peers().stream().anyMatch(p -> p.id().equals(id));
            if (!known) {
                throw new HttpError(500, "id \"" + id + "\" was not found in the Raft configuration");
            }
        }
        return future(() -> ctx.store.transferLeadership(id)).thenApply(v -> ApiResponse.json(ConsulJson.write(g -> {
            g.writeStartObject();
            g.writeBooleanField("Success", true);
            g.writeEndObject();
        })));
    }

    private static String id(ApiRequest req, String name, String dflt) {
        String v = req.param(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    private static <T> CompletableFuture<T> future(java.util.function.Supplier<CompletableFuture<T>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    static String[] hostPort(String address) {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            return new String[] {address, "0"};
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new String[] {host, address.substring(colon + 1)};
    }
}
