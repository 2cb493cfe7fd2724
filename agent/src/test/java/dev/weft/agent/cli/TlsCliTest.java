package dev.weft.agent.cli;

import dev.weft.agent.Main;
import dev.weft.agent.tls.TestPki;
import dev.weft.kvstore.tls.TlsException;
import dev.weft.kvstore.tls.TlsMaterial;
import dev.weft.kvstore.tls.TlsSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code weft tls ca create} and {@code weft tls cert create}: files, names, extensions, chains, errors. */
class TlsCliTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private Run weft(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new CliIo(new PrintWriter(out, true), new PrintWriter(err, true),
                new ByteArrayInputStream(new byte[0]), Map.of()), args);
        return new Run(code, out.toString(), err.toString());
    }

    private X509Certificate cert(String name) throws TlsException {
        return TlsMaterial.readCertificates(dir.resolve(name)).get(0);
    }

    @Test
    void caCreateWritesACaAndNeverOverwritesIt() throws Exception {
        Run r = weft("tls", "ca", "create", "-dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("==> Saved " + dir.resolve("weft-agent-ca.pem")), r.out());
        X509Certificate ca = cert("weft-agent-ca.pem");
        assertTrue(ca.getBasicConstraints() >= 0, "a CA certificate");
        assertTrue(ca.getKeyUsage()[5], "keyCertSign");
        assertEquals(ca.getSubjectX500Principal(), ca.getIssuerX500Principal());
        ca.verify(ca.getPublicKey());
        assertEquals(256, ((ECPublicKey) ca.getPublicKey()).getParams().getCurve().getField().getFieldSize(),
                "ECDSA P-256");
        assertEquals("SHA256withECDSA", ca.getSigAlgName());
        long days = Duration.between(Instant.now(), ca.getNotAfter().toInstant()).toDays();
        assertTrue(days >= 1823 && days <= 1825, "valid for 1825 days, got " + days);
        Path key = dir.resolve("weft-agent-ca-key.pem");
        assertEquals("EC", TlsMaterial.readPrivateKey(key).getAlgorithm());
        assertEquals(Set.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(key));

        byte[] before = Files.readAllBytes(dir.resolve("weft-agent-ca.pem"));
        Run again = weft("tls", "ca", "create", "-dir", dir.toString());
        assertEquals(1, again.code());
        assertTrue(again.err().contains("already exists"), again.err());
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("weft-agent-ca.pem")));
    }

    @Test
    void serverCertificatesCarryTheServerNamesAndChainToTheCa() throws Exception {
        assertEquals(0, weft("tls", "ca", "create", "-dir", dir.toString(), "-days", "10").code());
        Run r = weft("tls", "cert", "create", "-server", "-dir", dir.toString(), "-additional-dnsname", "n1.example",
                "-additional-ipaddress", "10.1.2.3");
        assertEquals(0, r.code(), r.err());
        X509Certificate ca = cert("weft-agent-ca.pem");
        X509Certificate server = cert("dc1-server-weft-0.pem");
        server.verify(ca.getPublicKey());
        assertEquals(ca.getSubjectX500Principal(), server.getIssuerX500Principal());
        assertEquals("CN=server.dc1.weft", server.getSubjectX500Principal().getName());
        assertEquals(Set.of("2:server.dc1.weft", "2:localhost", "2:n1.example", "7:127.0.0.1", "7:10.1.2.3"),
                sans(server));
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), server.getExtendedKeyUsage(),
                "serverAuth and clientAuth");
        assertTrue(server.getKeyUsage()[0], "digitalSignature");
        assertEquals(-1, server.getBasicConstraints(), "not a CA");
        long days = Duration.between(Instant.now(), server.getNotAfter().toInstant()).toDays();
        assertTrue(days >= 363 && days <= 365, "valid for 365 days, got " + days);
        // the key belongs to the certificate, and the certificate chains to the CA: the agent accepts the files
        TlsMaterial m = TlsMaterial.load(new TlsSettings(dir.resolve("weft-agent-ca.pem"),
                dir.resolve("dc1-server-weft-0.pem"), dir.resolve("dc1-server-weft-0-key.pem"), true, true,
                "server.dc1.weft"), Instant.now());
        assertEquals(server.getSerialNumber(), m.certificate().getSerialNumber());

        // the next one gets the next free number
        assertEquals(0, weft("tls", "cert", "create", "-server", "-dir", dir.toString()).code());
        assertTrue(Files.exists(dir.resolve("dc1-server-weft-1.pem")));
        assertTrue(Files.exists(dir.resolve("dc1-server-weft-1-key.pem")));
        assertFalse(server.getSerialNumber().equals(cert("dc1-server-weft-1.pem").getSerialNumber()));
    }

    @Test
    void clientCertificatesNameOnlyTheClientRole() throws Exception {
        assertEquals(0, weft("tls", "ca", "create", "-dir", dir.toString(), "-domain", "example").code());
        Run r = weft("tls", "cert", "create", "-client", "-dc", "east", "-domain", "example", "-dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        X509Certificate client = cert("east-client-example-0.pem");
        assertEquals(Set.of("2:client.east.example"), sans(client));
        client.verify(cert("example-agent-ca.pem").getPublicKey());
        assertTrue(Files.exists(dir.resolve("east-client-example-0-key.pem")));
    }

    @Test
    void certificatesSignedByAnotherCaAreRejectedByTheAgent() throws Exception {
        Path other = dir.resolve("other");
        assertEquals(0, weft("tls", "ca", "create", "-dir", dir.toString()).code());
        assertEquals(0, weft("tls", "ca", "create", "-dir", other.toString()).code());
        assertEquals(0, weft("tls", "cert", "create", "-server", "-dir", other.toString()).code());
        TlsException e = assertThrows(TlsException.class, () -> TlsMaterial.load(new TlsSettings(
                dir.resolve("weft-agent-ca.pem"), other.resolve("dc1-server-weft-0.pem"),
                other.resolve("dc1-server-weft-0-key.pem"), true, true, "server.dc1.weft"), Instant.now()));
        assertTrue(e.getMessage().contains("is not signed by the CA"), e.getMessage());
        TlsException mismatch = assertThrows(TlsException.class, () -> TlsMaterial.load(new TlsSettings(
                other.resolve("weft-agent-ca.pem"), other.resolve("dc1-server-weft-0.pem"),
                other.resolve("weft-agent-ca-key.pem"), true, true, "server.dc1.weft"), Instant.now()));
        assertTrue(mismatch.getMessage().contains("does not belong to the certificate"), mismatch.getMessage());
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        assertEquals(0, weft("tls", "ca", "create", "-dir", dir.toString()).code());
        String d = dir.toString();
        assertUsage(weft("tls", "cert", "create", "-dir", d), "Exactly one of -server or -client");
        assertUsage(weft("tls", "cert", "create", "-server", "-client", "-dir", d), "Exactly one of -server or -client");
        assertUsage(weft("tls", "cert", "create", "-server", "-days", "0", "-dir", d), "-days");
        assertUsage(weft("tls", "cert", "create", "-server", "-additional-ipaddress", "not-an-ip", "-dir", d),
                "not an IP address");
        assertUsage(weft("tls", "cert", "create", "-server", "-additional-dnsname", "bad name", "-dir", d),
                "not a DNS name");
        assertUsage(weft("tls", "ca", "create", "-days", "x", "-dir", d), "-days");
        assertUsage(weft("tls", "ca", "create", "-bogus"), "bogus");
        assertUsage(weft("tls"), "Missing required subcommand");
        assertTrue(Files.list(dir).noneMatch(p -> p.getFileName().toString().startsWith("dc1-")),
                "nothing written on a usage error");

        Run noCa = weft("tls", "cert", "create", "-server", "-dir", dir.resolve("empty").toString());
        assertEquals(1, noCa.code(), noCa.err());
        assertTrue(noCa.err().contains("Error reading the CA"), noCa.err());
    }

    private static void assertUsage(Run r, String fragment) {
        assertEquals(2, r.code(), "exit code of a usage error; stderr: " + r.err());
        assertTrue(r.err().contains(fragment), "stderr should mention '" + fragment + "': " + r.err());
    }

    private static Set<String> sans(X509Certificate c) throws Exception {
        return c.getSubjectAlternativeNames().stream().map(l -> l.get(0) + ":" + l.get(1))
                .collect(Collectors.toSet());
    }

    @Test
    void testPkiWritesFilesTheAgentAccepts() throws Exception {
        TestPki.Written ca = TestPki.ca(dir, "ca");
        TestPki.Written s = TestPki.server(ca, dir, "s");
        TlsMaterial m = TlsMaterial.load(new TlsSettings(ca.cert(), s.cert(), s.key(), true, true,
                "server.dc1.weft"), Instant.now());
        assertEquals(s.serial(), m.certificate().getSerialNumber());
    }
}
