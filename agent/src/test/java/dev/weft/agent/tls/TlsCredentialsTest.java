package dev.weft.agent.tls;

import dev.weft.kvstore.tls.TlsCredentials;
import dev.weft.kvstore.tls.TlsException;
import dev.weft.kvstore.tls.TlsSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reloadable credentials: who is trusted in which role, and what a reload does with good and bad files. */
class TlsCredentialsTest {
    @TempDir
    Path dir;

    @Test
    void peersMustChainToTheCaAndServersMustBeServers() throws Exception {
        TestPki.Written ca = TestPki.ca(dir, "ca");
        TestPki.Written server = TestPki.server(ca, dir, "server");
        TestPki.Written client = TestPki.client(ca, dir, "client");
        TestPki.Written foreignCa = TestPki.ca(dir.resolve("foreign"), "ca");
        TestPki.Written foreign = TestPki.server(foreignCa, dir.resolve("foreign"), "server");
        TlsCredentials tls = TlsCredentials.load(settings(ca, server), new SimpleMeterRegistry(), Clock.systemUTC());

        X509Certificate[] s = {server.issued().certificate()};
        X509Certificate[] c = {client.issued().certificate()};
        X509Certificate[] f = {foreign.issued().certificate()};
        // Raft: both directions only servers of this CA
        tls.trustManager(true).checkClientTrusted(s, "UNKNOWN");
        tls.trustManager(true).checkServerTrusted(s, "ECDHE_ECDSA");
        CertificateException notServer = assertThrows(CertificateException.class,
                () -> tls.trustManager(true).checkClientTrusted(c, "UNKNOWN"));
        assertTrue(notServer.getMessage().contains("not a server certificate"), notServer.getMessage());
        assertThrows(CertificateException.class, () -> tls.trustManager(true).checkClientTrusted(f, "UNKNOWN"));
        assertThrows(CertificateException.class, () -> tls.trustManager(true).checkServerTrusted(f, "ECDHE_ECDSA"));
        // HTTPS listener: any agent of this CA may connect, nobody else
        tls.listenerTrustManager().checkClientTrusted(c, "UNKNOWN");
        tls.listenerTrustManager().checkClientTrusted(s, "UNKNOWN");
        assertThrows(CertificateException.class, () -> tls.listenerTrustManager().checkClientTrusted(f, "UNKNOWN"));
        // a client agent talking to a server accepts only a server certificate
        assertThrows(CertificateException.class, () -> tls.trustManager(true).checkServerTrusted(c, "ECDHE_ECDSA"));
    }

    @Test
    void reloadSwapsTheMaterialAndKeepsTheOldOneOnBadFiles() throws Exception {
        TestPki.Written ca = TestPki.ca(dir, "ca");
        TestPki.Written first = TestPki.server(ca, dir, "agent");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TlsCredentials tls = TlsCredentials.load(settings(ca, first), registry, Clock.systemUTC());
        var km = tls.keyManager();
        assertEquals(first.serial(), km.getCertificateChain(km.chooseServerAlias("EC", null, null))[0]
                .getSerialNumber());
        double expiry = registry.get("weft.tls.cert.expiry").gauge().value();
        assertTrue(expiry > 29 * 86400 && expiry <= 30 * 86400, "seconds until expiry: " + expiry);

        TestPki.Written second = TestPki.server(ca, dir, "agent"); // same file names, new serial
        assertEquals(second.serial(), tls.reload().certificate().getSerialNumber());
        // the manager handed out before the reload now presents the new certificate
        assertEquals(second.serial(), km.getCertificateChain(km.chooseServerAlias("EC", null, null))[0]
                .getSerialNumber());

        Files.writeString(first.key(), "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n");
        assertThrows(TlsException.class, tls::reload);
        assertEquals(second.serial(), tls.current().certificate().getSerialNumber(), "old material kept");
        TestPki.Written other = TestPki.server(ca, dir, "other");
        Files.copy(other.key(), first.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        TlsException mismatch = assertThrows(TlsException.class, tls::reload);
        assertTrue(mismatch.getMessage().contains("does not belong"), mismatch.getMessage());
        assertEquals(second.serial(), km.getCertificateChain(km.chooseServerAlias("EC", null, null))[0]
                .getSerialNumber());
        assertEquals(1.0, registry.get("weft.tls.reloads").tag("result", "ok").counter().count());
        assertEquals(2.0, registry.get("weft.tls.reloads").tag("result", "error").counter().count());
    }

    @Test
    void consulStyleEcKeysAreReadToo() throws Exception {
        TestPki.Written ca = TestPki.ca(dir, "ca");
        TestPki.Written server = TestPki.server(ca, dir, "server");
        // consul tls (and openssl ec) write RFC 5915 'EC PRIVATE KEY'; the same key must load
        java.security.interfaces.ECPrivateKey key = (java.security.interfaces.ECPrivateKey) server.issued().key();
        byte[] sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, key.getS(),
                org.bouncycastle.asn1.x9.X9ObjectIdentifiers.prime256v1).getEncoded();
        Path sec1File = dir.resolve("server-sec1-key.pem");
        Files.writeString(sec1File, "-----BEGIN EC PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(sec1)
                + "\n-----END EC PRIVATE KEY-----\n");
        TlsCredentials tls = TlsCredentials.load(new TlsSettings(ca.cert(), server.cert(), sec1File, true, true,
                "server.dc1.weft"), new SimpleMeterRegistry(), Clock.systemUTC());
        assertEquals(server.serial(), tls.current().certificate().getSerialNumber());
        Files.writeString(sec1File, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        TlsException rsa = assertThrows(TlsException.class, tls::reload);
        assertTrue(rsa.getMessage().contains("openssl pkcs8 -topk8"), rsa.getMessage());
    }

    private static TlsSettings settings(TestPki.Written ca, TestPki.Written agent) {
        return new TlsSettings(ca.cert(), agent.cert(), agent.key(), true, true, "server.dc1.weft");
    }
}
