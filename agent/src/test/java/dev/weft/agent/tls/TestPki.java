package dev.weft.agent.tls;

import dev.weft.kvstore.tls.TlsCredentials;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/** Certificates for tests, issued with the product's {@link CertificateIssuer}, and a TLS probe. */
public final class TestPki {
    private TestPki() {
    }

    /** A CA or agent certificate written to disk. */
    public record Written(Path cert, Path key, CertificateIssuer.Issued issued) {
        public BigInteger serial() {
            return issued.certificate().getSerialNumber();
        }
    }

    public static Written ca(Path dir, String name) throws IOException, GeneralSecurityException {
        return write(dir, name, CertificateIssuer.createCa(30, Instant.now()));
    }

    public static Written server(Written ca, Path dir, String name) throws IOException, GeneralSecurityException {
        return write(dir, name, CertificateIssuer.createAgentCert(ca.issued(), CertificateIssuer.Role.SERVER, "dc1",
                "weft", 30, List.of(), List.of(), Instant.now()));
    }

    public static Written client(Written ca, Path dir, String name) throws IOException, GeneralSecurityException {
        return write(dir, name, CertificateIssuer.createAgentCert(ca.issued(), CertificateIssuer.Role.CLIENT, "dc1",
                "weft", 30, List.of(), List.of(), Instant.now()));
    }

    /**
     * Writes {@code name.pem} and {@code name-key.pem}, each through a temporary file and an atomic rename, so
     * that an agent re-reading them never sees half a file.
     */
    public static Written write(Path dir, String name, CertificateIssuer.Issued issued)
            throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        Path cert = dir.resolve(name + ".pem");
        Path key = dir.resolve(name + "-key.pem");
        replace(cert, CertificateIssuer.pem(issued.certificate()));
        replace(key, CertificateIssuer.pem(issued.key()));
        return new Written(cert, key, issued);
    }

    private static void replace(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Opens a new TLS connection to {@code port} on 127.0.0.1 presenting {@code identity} (or no certificate when
     * null), trusting any server certificate, and returns the certificate the server presented. The handshake is
     * completed and one read is attempted, so that a server refusing the client certificate (TLS 1.3 reports it
     * after the client's handshake ends) fails here.
     */
    public static X509Certificate serverCertificate(int port, Written identity, boolean readAfter)
            throws IOException, GeneralSecurityException {
        try (SSLSocket s = connect(port, identity, "TLS")) {
            s.setSoTimeout(2000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2", "http/1.1"});
            s.setSSLParameters(p);
            s.startHandshake();
            X509Certificate presented = (X509Certificate) s.getSession().getPeerCertificates()[0];
            if (readAfter) {
                // HTTP/2 servers (gRPC) send their SETTINGS frame first; an HTTP/1.1 server waits: a timeout is fine.
                // A server that refused the certificate has sent an alert instead: the read throws.
                try {
                    if (s.getInputStream().read() < 0) {
                        throw new javax.net.ssl.SSLException("connection closed by the server after the handshake");
                    }
                } catch (java.net.SocketTimeoutException quiet) {
                    // accepted: nothing to read yet
                }
            }
            return presented;
        }
    }

    /**
     * A TLS socket connected to {@code port} on 127.0.0.1, not yet handshaken, presenting {@code identity} (or no
     * certificate when null), trusting any server certificate, speaking {@code protocol} ("TLS", "TLSv1.3").
     */
    public static SSLSocket connect(int port, Written identity, String protocol)
            throws IOException, GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance(protocol);
        KeyManager[] km = null;
        if (identity != null) {
            java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("k", identity.issued().key(), new char[0],
                    new java.security.cert.Certificate[] {identity.issued().certificate()});
            javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                    javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            km = kmf.getKeyManagers();
        }
        ctx.init(km, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
        try {
            s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Whether {@code cert} names {@code dns} among its DNS subject alternative names. */
    public static boolean hasDns(X509Certificate cert, String dns) {
        return TlsCredentials.hasDnsName(cert, dns);
    }
}
