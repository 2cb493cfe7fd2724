package dev.weft.kvstore.tls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where an agent's TLS material lives and how it is used (Consul's {@code -ca-file -cert-file -key-file
 * -verify-incoming -verify-outgoing}).
 *
 * @param caFile         PEM file with the CA certificate(s) every peer's certificate must chain to
 * @param certFile       PEM file with this agent's certificate (leaf first, intermediates after it)
 * @param keyFile        PEM file with this agent's private key (PKCS#8 {@code PRIVATE KEY}, EC, RSA or
 *                       Ed25519; or SEC1 {@code EC PRIVATE KEY})
 * @param verifyIncoming servers require a certificate signed by the CA from every peer that connects (Raft,
 *                       HTTPS API, client agents)
 * @param verifyOutgoing this agent uses TLS, with its certificate, for every connection it opens to a server
 * @param serverName     the DNS name every server certificate carries, {@code server.<dc>.<domain>}
 */
public record TlsSettings(Path caFile, Path certFile, Path keyFile, boolean verifyIncoming, boolean verifyOutgoing,
                          String serverName) {

    public TlsSettings {
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(serverName, "serverName");
    }

    /** {@code server.<dc>.<domain>}, the name server certificates carry (the domain without its final dot). */
    public static String serverName(String datacenter, String domain) {
        String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
        return "server." + datacenter + "." + d;
    }

    /** Raft traffic between servers uses TLS when either verify flag is set. */
    public boolean raftTls() {
        return verifyIncoming || verifyOutgoing;
    }
}
