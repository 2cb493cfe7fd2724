package dev.weft.agent.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Issues the certificates of {@code weft tls} the way {@code consul tls} does: ECDSA P-256 keys, SHA-256
 * signatures, random 128-bit serials, validity starting a minute in the past (clock skew).
 *
 * <ul>
 *   <li>CA: {@code CN=Weft Agent CA <serial>}, basic constraints CA (critical), key usage certificate and CRL
 *       signing plus digital signature.</li>
 *   <li>Server: {@code CN=server.<dc>.<domain>}, DNS names {@code server.<dc>.<domain>} and {@code localhost}, IP
 *       {@code 127.0.0.1}, plus any additional names; client: {@code CN=client.<dc>.<domain>} and that DNS name.
 *       Both: key usage digital signature and key agreement, extended key usage server and client
 *       authentication (a server is a client of the other servers), not a CA.</li>
 * </ul>
 * Pure apart from the random numbers: the time is passed in.
 */
public final class CertificateIssuer {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration BACKDATE = Duration.ofMinutes(1);

    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
    }

    /** Which kind of agent certificate. */
    public enum Role {
        SERVER, CLIENT;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private CertificateIssuer() {
    }

    /** A new self-signed CA valid for {@code days} days from {@code now}. */
    public static Issued createCa(int days, Instant now) throws GeneralSecurityException {
        KeyPair kp = newKeyPair();
        BigInteger serial = serial();
        X500Name name = new X500Name("CN=Weft Agent CA " + serial.toString(16));
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial, Date.from(now.minus(BACKDATE)),
                Date.from(now.plus(Duration.ofDays(days))), name, kp.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign
                    | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot add certificate extensions: " + e.getMessage(), e);
        }
        return new Issued(sign(b, kp.getPrivate()), kp.getPrivate());
    }

    /** The DNS name that identifies the role: {@code server.<dc>.<domain>} or {@code client.<dc>.<domain>}. */
    public static String roleName(Role role, String datacenter, String domain) {
        String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
        return role.label() + "." + datacenter + "." + d;
    }

    /**
     * A new agent certificate signed by {@code ca}.
     *
     * @param extraDns additional DNS names
     * @param extraIps additional IP addresses (literals; checked by the caller)
     */
    public static Issued createAgentCert(Issued ca, Role role, String datacenter, String domain, int days,
                                         List<String> extraDns, List<InetAddress> extraIps, Instant now)
            throws GeneralSecurityException {
        KeyPair kp = newKeyPair();
        String cn = roleName(role, datacenter, domain);
        Set<String> dns = new LinkedHashSet<>();
        dns.add(cn);
        List<InetAddress> ips = new ArrayList<>();
        if (role == Role.SERVER) {
            dns.add("localhost");
            ips.add(InetAddress.getLoopbackAddress());
        }
        dns.addAll(extraDns);
        for (InetAddress ip : extraIps) {
            if (!ips.contains(ip)) {
                ips.add(ip);
            }
        }
        List<GeneralName> sans = new ArrayList<>();
        dns.forEach(n -> sans.add(new GeneralName(GeneralName.dNSName, n)));
        ips.forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip.getHostAddress())));
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
                Date.from(now.minus(BACKDATE)), Date.from(now.plus(Duration.ofDays(days))),
                new X500Name("CN=" + cn), kp.getPublic());
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                    | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(sans.toArray(GeneralName[]::new)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(ca.certificate()));
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot add certificate extensions: " + e.getMessage(), e);
        }
        return new Issued(sign(b, ca.key()), kp.getPrivate());
    }

    /** PEM text of a certificate. */
    public static String pem(X509Certificate cert) throws GeneralSecurityException {
        return pem("CERTIFICATE", cert.getEncoded());
    }

    /** PEM text of a private key, unencrypted PKCS#8 ({@code PRIVATE KEY}), which the JDK reads directly. */
    public static String pem(PrivateKey key) {
        return pem("PRIVATE KEY", key.getEncoded());
    }

    private static String pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(128, RANDOM).setBit(127); // positive, always 16 bytes
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(key.getAlgorithm().equals("RSA") ? "SHA256withRSA"
                            : "SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign: " + e.getMessage(), e);
        }
    }
}
