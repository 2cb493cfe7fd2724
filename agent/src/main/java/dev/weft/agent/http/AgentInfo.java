package dev.weft.agent.http;

/**
 * What the HTTP API says about the agent it runs in.
 *
 * @param nodeName    this agent's node name
 * @param datacenter  datacenter name
 * @param server      whether this agent is a Raft server
 * @param version     weft version
 * @param revision    source revision, or "" when unknown
 * @param bindAddr    the address the agent advertises (Raft bind address)
 * @param raftPort    the Raft port actually bound
 */
public record AgentInfo(String nodeName, String datacenter, boolean server, String version, String revision,
                        String bindAddr, int raftPort, String nodeId) {
    /** Without a node ID (tests): {@code /v1/agent/self} then shows the Raft ID there. */
    public AgentInfo(String nodeName, String datacenter, boolean server, String version, String revision,
                     String bindAddr, int raftPort) {
        this(nodeName, datacenter, server, version, revision, bindAddr, raftPort, "");
    }
}
