package dev.weft.kvstore.tls;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * One loaded and checked set of TLS files: the CA certificates, this agent's certificate chain and its private
 * key, with the JDK key and trust managers made from them. Immutable; a reload loads a new one.
 *
 * <p>Checks at load: every file readable and parseable, the key matches the certificate (a signature made with
 * the key verifies with the certificate's public key), the certificate is signed by one of the CA certificates
 * (directly or through the intermediates that follow it in the file), and it is within its validity period.
 */
public final class TlsMaterial {
    private final List<X509Certificate> cas;
    private final List<X509Certificate> chain;
    private final X509ExtendedKeyManager keyManager;
    private final X509TrustManager trustManager;

    private TlsMaterial(List<X509Certificate> cas, List<X509Certificate> chain, X509ExtendedKeyManager keyManager,
                        X509TrustManager trustManager) {
        this.cas = cas;
        this.chain = chain;
        this.keyManager = keyManager;
        this.trustManager = trustManager;
    }

    /** Loads and checks the three files of {@code s}. */
    public static TlsMaterial load(TlsSettings s, Instant now) throws TlsException {
        List<X509Certificate> cas = certificates(s.caFile(), "CA file");
        List<X509Certificate> chain = certificates(s.certFile(), "certificate file");
        PrivateKey key = privateKey(s.keyFile());
        X509Certificate leaf = chain.get(0);
        if (!matches(key, leaf)) {
            throw new TlsException("the key in " + s.keyFile() + " does not belong to the certificate in "
                    + s.certFile());
        }
        if (!signedByCa(chain, cas)) {
            throw new TlsException("the certificate in " + s.certFile() + " (" + leaf.getSubjectX500Principal()
                    + ") is not signed by the CA in " + s.caFile());
        }
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            throw new TlsException("the certificate in " + s.certFile() + " expired at "
                    + leaf.getNotAfter().toInstant());
        }
        if (now.isBefore(leaf.getNotBefore().toInstant())) {
            throw new TlsException("the certificate in " + s.certFile() + " is not valid before "
                    + leaf.getNotBefore().toInstant());
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = new char[0];
            ks.setKeyEntry("weft", key, pw, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                ts.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            return new TlsMaterial(List.copyOf(cas), List.copyOf(chain),
                    (X509ExtendedKeyManager) kmf.getKeyManagers()[0], (X509TrustManager) tmf.getTrustManagers()[0]);
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsException("cannot build key and trust managers: " + e.getMessage(), e);
        }
    }

    /** This agent's certificate (the leaf). */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The leaf's serial number in hex, as {@code openssl x509 -serial} prints it. */
    public String serialHex() {
        return serialHex(certificate().getSerialNumber());
    }

    public static String serialHex(BigInteger serial) {
        return serial.toString(16).toUpperCase(Locale.ROOT);
    }

    public Instant notAfter() {
        return certificate().getNotAfter().toInstant();
    }

    public List<X509Certificate> cas() {
        return cas;
    }

    X509ExtendedKeyManager keyManager() {
        return keyManager;
    }

    X509TrustManager trustManager() {
        return trustManager;
    }

    /** The certificates of a PEM file, in order. */
    public static List<X509Certificate> readCertificates(Path file) throws TlsException {
        return certificates(file, "certificate file");
    }

    /** The private key of a PEM file (unencrypted PKCS#8: EC, RSA or Ed25519; or SEC1 {@code EC PRIVATE KEY}). */
    public static PrivateKey readPrivateKey(Path file) throws TlsException {
        return privateKey(file);
    }

    private static List<X509Certificate> certificates(Path file, String what) throws TlsException {
        byte[] bytes = read(file, what);
        try {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(bytes));
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : all) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new TlsException("no certificate in " + what + " " + file);
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new TlsException("cannot parse the " + what + " " + file + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws TlsException {
        String pem = new String(read(file, "key file"), StandardCharsets.US_ASCII);
        byte[] der = pemBlock(pem, "PRIVATE KEY", file);
        if (der == null) {
            byte[] sec1 = pemBlock(pem, "EC PRIVATE KEY", file);
            if (sec1 != null) {
                der = sec1ToPkcs8(sec1, file); // what consul tls and openssl ec write
            } else if (pem.contains("-----BEGIN RSA PRIVATE KEY-----")) {
                throw new TlsException("the key file " + file + " is in the traditional RSA format; convert it "
                        + "to PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in " + file);
            } else {
                throw new TlsException("no PEM 'PRIVATE KEY' (unencrypted PKCS#8) or 'EC PRIVATE KEY' in the key "
                        + "file " + file);
            }
        }
        for (String alg : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new TlsException("the key file " + file + " holds no EC, RSA or Ed25519 private key");
    }

    /** The DER bytes of the first PEM block of {@code type}, or null when there is none. */
    private static byte[] pemBlock(String pem, String type, Path file) throws TlsException {
        String begin = "-----BEGIN " + type + "-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf("-----END " + type + "-----");
        if (from < 0 || to < from) {
            return null;
        }
        try {
            return Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
        } catch (IllegalArgumentException e) {
            throw new TlsException("the key file " + file + " is not valid PEM: " + e.getMessage(), e);
        }
    }

    /**
     * Wraps an RFC 5915 {@code ECPrivateKey} (SEC1) into PKCS#8 {@code PrivateKeyInfo}, the form the JDK reads:
     * {@code SEQUENCE { 0, SEQUENCE { id-ecPublicKey, curve }, OCTET STRING { sec1 } }}, the curve taken from the
     * SEC1 structure's {@code [0]} parameters.
     */
    static byte[] sec1ToPkcs8(byte[] sec1, Path file) throws TlsException {
        byte[] curve = null;
        // SEQUENCE header, then version INTEGER, privateKey OCTET STRING, then [0] { OID }
        int[] pos = {0};
        try {
            expect(sec1, pos, 0x30);
            length(sec1, pos);
            for (int field = 0; field < 4 && pos[0] < sec1.length; field++) {
                int tag = sec1[pos[0]++] & 0xff;
                int len = length(sec1, pos);
                if (tag == 0xa0) {
                    int inner = pos[0];
                    if ((sec1[inner] & 0xff) == 0x06) {
                        curve = java.util.Arrays.copyOfRange(sec1, inner, pos[0] + len);
                    }
                    break;
                }
                pos[0] += len;
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            curve = null;
        }
        if (curve == null) {
            throw new TlsException("the EC key in " + file + " names no curve; convert it to PKCS#8 with: "
                    + "openssl pkcs8 -topk8 -nocrypt -in " + file);
        }
        byte[] ecPublicKey = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
        byte[] algorithm = tlv(0x30, concat(ecPublicKey, curve));
        return tlv(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, sec1)));
    }

    private static void expect(byte[] der, int[] pos, int tag) {
        if ((der[pos[0]++] & 0xff) != tag) {
            throw new ArrayIndexOutOfBoundsException("unexpected tag");
        }
    }

    private static int length(byte[] der, int[] pos) {
        int first = der[pos[0]++] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int len = 0;
        for (int i = 0; i < (first & 0x7f); i++) {
            len = (len << 8) | (der[pos[0]++] & 0xff);
        }
        return len;
    }

    private static byte[] tlv(int tag, byte[] value) {
        int n = value.length;
        byte[] len = n < 0x80 ? new byte[] {(byte) n} : n < 0x100 ? new byte[] {(byte) 0x81, (byte) n}
                : new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
        return concat(new byte[] {(byte) tag}, len, value);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static byte[] read(Path file, String what) throws TlsException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TlsException("cannot read the " + what + " " + file + ": " + e, e);
        }
    }

    private static boolean matches(PrivateKey key, X509Certificate cert) {
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> key.getAlgorithm();
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Each certificate of the chain is signed by the next one, and the last by one of the CAs (or is one). */
    private static boolean signedByCa(List<X509Certificate> chain, List<X509Certificate> cas) {
        for (int i = 0; i + 1 < chain.size(); i++) {
            if (!signedBy(chain.get(i), chain.get(i + 1))) {
                return false;
            }
        }
        X509Certificate last = chain.get(chain.size() - 1);
        for (X509Certificate ca : cas) {
            if (last.equals(ca) || signedBy(last, ca)) {
                return true;
            }
        }
        return false;
    }

    private static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
        try {
            cert.verify(issuer.getPublicKey());
            return cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal());
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
