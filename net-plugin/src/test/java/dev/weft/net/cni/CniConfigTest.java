package dev.weft.net.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.net.netlink.IpPrefix;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

/** Config parsing, version negotiation and CNI_ARGS, table-driven. Pure. */
class CniConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int code(String config) {
        return assertThrows(CniException.class, () -> CniConfig.parse(json(config))).code();
    }

    @Test
    void aPluginConfigAndAConflistEntry() {
        CniConfig c = CniConfig.parse(json("{\"cniVersion\":\"1.0.0\",\"name\":\"blue\",\"type\":\"weft-cni\"}"));
        assertEquals("blue", c.network());
        assertNull(c.subnet());
        assertEquals(0, c.mtu());
        assertNull(c.validAttachments());

        c = CniConfig.parse(json("{\"cniVersion\":\"1.1.0\",\"name\":\"pods\",\"type\":\"weft-cni\","
                + "\"network\":\"blue\",\"subnet\":\"10.200.0.0/16\",\"mtu\":1400,\"agentSocket\":\"/x\","
                + "\"runtimeConfig\":{\"portMappings\":[]},\"prevResult\":{\"ips\":[]},"
                + "\"cni.dev/valid-attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}"));
        assertEquals("blue", c.network());
        assertEquals(IpPrefix.parse("10.200.0.0/16"), c.subnet());
        assertEquals(1400, c.mtu());
        assertEquals(List.of(new CniConfig.Attachment("a", "eth0")), c.validAttachments());
        assertTrue(c.prevResult().has("ips"));
        // libcni also sets the old name of the GC list
        assertEquals(List.of(new CniConfig.Attachment("b", "net1")), CniConfig.parse(json("{\"cniVersion\":\"1.1.0\","
                + "\"name\":\"x\",\"cni.dev/attachments\":[{\"containerID\":\"b\",\"ifname\":\"net1\"}]}"))
                .validAttachments());
    }

    @Test
    void refusals() {
        assertEquals(7, code("{\"name\":\"blue\"}"));
        assertEquals(1, code("{\"cniVersion\":\"0.2.0\",\"name\":\"blue\"}"));
        assertEquals(1, code("{\"cniVersion\":\"1.2.0\",\"name\":\"blue\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"-bad\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"network\":\"has/slash\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"subnet\":\"10.200.0.1/16\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"subnet\":\"fd00::/64\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"subnet\":\"nonsense\"}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"mtu\":100}"));
        assertEquals(7, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"mtu\":\"1400\"}"));
        assertEquals(2, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:01\"}}"));
        assertEquals(2, code("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"runtimeConfig\":{\"ips\":[\"10.1.0.5/24\"]}}"));
        assertEquals(7, code("{\"cniVersion\":\"1.1.0\",\"name\":\"a\",\"cni.dev/valid-attachments\":{}}"));
        assertEquals(7, code("{\"cniVersion\":\"1.1.0\",\"name\":\"a\",\"cni.dev/valid-attachments\":[{}]}"));
        assertEquals(6, assertThrows(CniException.class, () -> CniConfig.parse(json("[1]"))).code());
        // empty runtime settings are fine
        CniConfig.parse(json("{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"runtimeConfig\":{\"ips\":[],\"mac\":\"\"}}"));
    }

    @Test
    void versionsAndTheirOrder() {
        assertEquals(List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"), CniVersions.SUPPORTED);
        assertTrue(CniVersions.atLeast("1.1.0", "0.4.0"));
        assertTrue(CniVersions.atLeast("0.4.0", "0.4.0"));
        assertTrue(!CniVersions.atLeast("0.3.1", "0.4.0"));
        assertTrue(CniVersions.compare("0.10.0", "0.9.0") > 0);
        assertEquals("1.0.0", CniConfig.versionOf(json("{\"cniVersion\":\"1.0.0\"}")));
        assertEquals("1.1.0", CniConfig.versionOf(json("{\"cniVersion\":\"7.0.0\"}")), "errors of unknown versions");
        assertEquals("1.1.0", CniConfig.versionOf(null));
    }

    @Test
    void cniArgs() {
        assertEquals(3, CniApi.checkArgs("IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=default").size());
        assertEquals(0, CniApi.checkArgs("").size());
        assertEquals(4, assertThrows(CniException.class, () -> CniApi.checkArgs("novalue")).code());
        assertEquals(2, assertThrows(CniException.class, () -> CniApi.checkArgs("IP=10.1.0.5")).code());
    }

    @Test
    void endpointIdsAreStableAndDistinct() {
        String id = CniApi.endpointId("3f6940ab5ab4", "eth0");
        assertEquals(id, CniApi.endpointId("3f6940ab5ab4", "eth0"));
        assertTrue(id.matches("cni-[0-9a-f]{32}"), id);
        assertTrue(!id.equals(CniApi.endpointId("3f6940ab5ab4", "eth1")));
        assertTrue(!CniApi.endpointId("a", "bc").equals(CniApi.endpointId("ab", "c")));
    }
}
