package dev.weft.net.cni;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.weft.net.control.NetworkRegistry;

import java.io.IOException;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the CNI network configuration parser (Jazzer): any bytes as the runtime's stdin,
 * parsed as JSON the way {@link CniApi} does, then {@link CniConfig#parse}. Invariant: a clear error (a
 * {@link CniException} with a spec code and a message) or a valid config (supported version, a name, a valid weft
 * network name, an IPv4 subnet without host bits or none, an MTU of 0 or 576–9000), never another exception. In
 * {@code ./mvnw verify} only the inputs under {@code CniConfigFuzzTestInputs/} run; {@code JAZZER_FUZZ=1}
 * fuzzes (see bench/fuzz.sh).
 */
class CniConfigFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<Integer> CONFIG_CODES = Set.of(CniException.INCOMPATIBLE_VERSION,
            CniException.UNSUPPORTED_FIELD, CniException.DECODE_FAILURE, CniException.INVALID_CONFIG);

    @FuzzTest(maxDuration = "10m")
    void networkConfig(byte[] stdin) {
        JsonNode node;
        try {
            node = JSON.readTree(stdin);
        } catch (IOException e) {
            return; // answered as code 6 (decode failure) by CniApi
        }
        CniConfig config;
        try {
            config = CniConfig.parse(node);
        } catch (CniException e) {
            assertTrue(CONFIG_CODES.contains(e.code()), "code " + e.code());
            assertFalse(e.getMessage() == null || e.getMessage().isEmpty(), "an error has a message");
            assertNotNull(e.details());
            return;
        }
        assertTrue(CniVersions.supported(config.cniVersion()), config.cniVersion());
        assertFalse(config.name() == null || config.name().isEmpty());
        assertDoesNotThrow(() -> NetworkRegistry.checkName(config.network()));
        if (config.subnet() != null) {
            assertTrue(config.subnet().isIpv4());
            assertEquals(config.subnet().toString(), node.get("subnet").asText());
        }
        assertTrue(config.mtu() == 0 || config.mtu() >= 576 && config.mtu() <= 9000, "mtu " + config.mtu());
        assertEquals(config.cniVersion(), CniConfig.versionOf(node));
    }
}
