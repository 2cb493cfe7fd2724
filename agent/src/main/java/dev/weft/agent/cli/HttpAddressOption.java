package dev.weft.agent.cli;

import dev.weft.kvstore.tls.TlsException;
import dev.weft.kvstore.tls.TlsMaterial;
import picocli.CommandLine.Option;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import java.security.cert.X509Certificate;

/**
 * The {@code -http-addr} and {@code -token} options of every client command, and Consul's CLI TLS options: with an {@code https://}
 * address (or {@code WEFT_HTTP_SSL=true} / {@code CONSUL_HTTP_SSL=true}) the CLI trusts {@code -ca-file} and
 * presents {@code -client-cert}/{@code -client-key} (environment: {@code WEFT_CACERT}, {@code WEFT_CLIENT_CERT},
 * {@code WEFT_CLIENT_KEY}, or Consul's {@code CONSUL_*} names).
 */
public final class HttpAddressOption {
    @Option(names = {"-http-addr", "--http-addr"}, paramLabel = "ADDR",
            description = "Agent HTTP address (default: $WEFT_HTTP_ADDR, $CONSUL_HTTP_ADDR, 127.0.0.1:8500)")
    String httpAddr;
    @Option(names = {"-token", "--token"}, paramLabel = "SECRET",
            description = "ACL token (default: $WEFT_HTTP_TOKEN, $CONSUL_HTTP_TOKEN)")
    String token;
    @Option(names = {"-ca-file", "--ca-file"}, paramLabel = "FILE", description = "CA to verify the agent's HTTPS")
    Path caFile;
    @Option(names = {"-client-cert", "--client-cert"}, paramLabel = "FILE",
            description = "Client certificate for an agent with -verify-incoming")
    Path clientCert;
    @Option(names = {"-client-key", "--client-key"}, paramLabel = "FILE", description = "Key of -client-cert")
    Path clientKey;

    ApiClient client(CliIo io) {
        String addr = ApiClient.resolveAddress(httpAddr, io.env());
        String secret = ApiClient.resolveToken(token, io.env());
        boolean ssl = "true".equalsIgnoreCase(env(io, "WEFT_HTTP_SSL", "CONSUL_HTTP_SSL"));
        if (!addr.startsWith("https://") && !(ssl && !addr.contains("://"))) {
            return new ApiClient(addr, secret);
        }
        return new ApiClient(addr.contains("://") ? addr : "https://" + addr, secret,
                context(path(io, caFile, "WEFT_CACERT", "CONSUL_CACERT"),
                        path(io, clientCert, "WEFT_CLIENT_CERT", "CONSUL_CLIENT_CERT"),
                        path(io, clientKey, "WEFT_CLIENT_KEY", "CONSUL_CLIENT_KEY")));
    }

    private static String env(CliIo io, String weft, String consul) {
        String v = io.env().get(weft);
        return v != null && !v.isBlank() ? v : io.env().get(consul);
    }

    private static Path path(CliIo io, Path flag, String weft, String consul) {
        String v = env(io, weft, consul);
        return flag != null ? flag : v == null || v.isBlank() ? null : Path.of(v);
    }

    /** Trust in {@code ca} (the JDK's CAs when null), and the client certificate when given. */
    private static SSLContext context(Path ca, Path cert, Path key) {
        if ((cert == null) != (key == null)) {
            throw new CliFailure("-client-cert and -client-key go together", 2);
        }
        try {
            TrustManager[] tm = null;
            if (ca != null) {
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                List<X509Certificate> cas = TlsMaterial.readCertificates(ca);
                for (int i = 0; i < cas.size(); i++) {
                    ts.setCertificateEntry("ca-" + i, cas.get(i));
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
                tmf.init(ts);
                tm = tmf.getTrustManagers();
            }
            KeyManager[] km = null;
            if (cert != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("client", TlsMaterial.readPrivateKey(key), new char[0],
                        TlsMaterial.readCertificates(cert).toArray(Certificate[]::new));
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, new char[0]);
                km = kmf.getKeyManagers();
            }
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(km, tm, null);
            return c;
        } catch (TlsException e) {
            throw new CliFailure("Error loading TLS files: " + e.getMessage());
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new CliFailure("Error setting up TLS: " + e.getMessage());
        }
    }
}
