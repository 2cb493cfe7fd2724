package dev.weft.kvstore.tls;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An agent's TLS identity and trust, reloadable: the key and trust managers handed out here delegate to the
 * {@link TlsMaterial} currently loaded, so {@link #reload()} changes what every <em>new</em> handshake uses (Raft,
 * HTTPS listener, client agents' connections) while established connections keep going untouched.
 *
 * <p>Peer checks replace host-name verification (as Consul's {@code verify_server_hostname}): a peer must present
 * a certificate that chains to the CA, and where the peer must be a server (Raft, in both directions; a client
 * agent's connections to servers) the certificate must also carry the DNS name {@code server.<dc>.<domain>}.
 * A certificate from another CA, or a client certificate where a server's is required, is refused.
 *
 * <p>Metrics: {@code weft.tls.reloads{result=ok|error}}, {@code weft.tls.cert.expiry} (seconds until this
 * agent's certificate expires).
 */
public final class TlsCredentials {
    private static final Logger LOG = LoggerFactory.getLogger(TlsCredentials.class);

    private final TlsSettings settings;
    private final Clock clock;
    private final AtomicReference<TlsMaterial> current;
    private final Counter reloadsOk;
    private final Counter reloadsFailed;

    private TlsCredentials(TlsSettings settings, Clock clock, TlsMaterial first, MeterRegistry registry) {
        this.settings = settings;
        this.clock = clock;
        this.current = new AtomicReference<>(first);
        this.reloadsOk = Counter.builder("weft.tls.reloads").tag("result", "ok")
                .description("Reloads of the TLS files (SIGHUP, weft reload)").register(registry);
        this.reloadsFailed = Counter.builder("weft.tls.reloads").tag("result", "error")
                .description("Reloads of the TLS files (SIGHUP, weft reload)").register(registry);
        Gauge.builder("weft.tls.cert.expiry", this,
                        t -> Duration.between(t.clock.instant(), t.current().notAfter()).toSeconds())
                .description("Seconds until this agent's TLS certificate expires").baseUnit("seconds")
                .register(registry);
    }

    /**
     * Loads and checks the files of {@code settings}.
     *
     * @throws TlsException when a file is unreadable, malformed, mismatched, expired or not signed by the CA
     */
    public static TlsCredentials load(TlsSettings settings, MeterRegistry registry, Clock clock) throws TlsException {
        Objects.requireNonNull(registry, "registry");
        TlsMaterial m = TlsMaterial.load(settings, clock.instant());
        LOG.info("TLS: loaded certificate serial {} ({}), expires {}, from {}", m.serialHex(),
                m.certificate().getSubjectX500Principal(), m.notAfter(), settings.certFile());
        return new TlsCredentials(settings, clock, m, registry);
    }

    public TlsSettings settings() {
        return settings;
    }

    public TlsMaterial current() {
        return current.get();
    }

    /**
     * Re-reads the three files. On success new handshakes use the new material at once; on failure the old
     * material stays in use and the error is thrown (and logged).
     */
    public TlsMaterial reload() throws TlsException {
        TlsMaterial next;
        try {
            next = TlsMaterial.load(settings, clock.instant());
        } catch (TlsException e) {
            reloadsFailed.increment();
            LOG.error("TLS reload failed, keeping certificate serial {}: {}", current().serialHex(), e.getMessage());
            throw e;
        }
        TlsMaterial previous = current.getAndSet(next);
        reloadsOk.increment();
        LOG.info("TLS reloaded: certificate serial {} (was {}), expires {}", next.serialHex(),
                previous.serialHex(), next.notAfter());
        return next;
    }

    /** This agent's identity, always the current material's. */
    public X509ExtendedKeyManager keyManager() {
        return new ReloadingKeyManager();
    }

    /**
     * Trust in the CA of the current material.
     *
     * @param peersAreServers whether every peer (in both directions) must present a server certificate
     */
    public X509ExtendedTrustManager trustManager(boolean peersAreServers) {
        return new CaTrustManager(peersAreServers, peersAreServers);
    }

    /** Trust for a listener that accepts any agent's certificate from clients. */
    public X509ExtendedTrustManager listenerTrustManager() {
        return new CaTrustManager(false, true);
    }

    /**
     * A JDK SSL context for connections to servers: presents this agent's certificate and accepts only server
     * certificates signed by the CA. For {@link java.net.http.HttpClient} and plain sockets.
     */
    public SSLContext clientContext() {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(new KeyManager[] {keyManager()}, new TrustManager[] {trustManager(true)}, null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create an SSL context: " + e.getMessage(), e);
        }
    }

    /** Delegates every call to the key manager of the material loaded now. */
    private final class ReloadingKeyManager extends X509ExtendedKeyManager {
        private X509ExtendedKeyManager km() {
            return current.get().keyManager();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return km().getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return km().chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return km().chooseEngineClientAlias(keyType, issuers, engine);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return km().getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return km().chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return km().chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return km().getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return km().getPrivateKey(alias);
        }
    }

    /**
     * Chain to the current CA; a server name where required. Host names are deliberately not checked (the
     * server name is): agents reach servers by addresses that need not be in the certificate.
     */
    private final class CaTrustManager extends X509ExtendedTrustManager {
        private final boolean clientsAreServers;
        private final boolean serversAreServers;

        CaTrustManager(boolean clientsAreServers, boolean serversAreServers) {
            this.clientsAreServers = clientsAreServers;
            this.serversAreServers = serversAreServers;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            current.get().trustManager().checkClientTrusted(chain, authType);
            if (clientsAreServers) {
                requireServerName(chain);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            current.get().trustManager().checkServerTrusted(chain, authType);
            if (serversAreServers) {
                requireServerName(chain);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return current.get().trustManager().getAcceptedIssuers();
        }

        private void requireServerName(X509Certificate[] chain) throws CertificateException {
            if (!hasDnsName(chain[0], settings.serverName())) {
                throw new CertificateException("peer certificate " + chain[0].getSubjectX500Principal()
                        + " is not a server certificate: no DNS name " + settings.serverName());
            }
        }
    }

    /** Whether the certificate's subject alternative names include the DNS name {@code name}. */
    public static boolean hasDnsName(X509Certificate cert, String name) {
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return false;
            }
            for (List<?> san : sans) {
                if (Integer.valueOf(2).equals(san.get(0)) && name.equalsIgnoreCase(String.valueOf(san.get(1)))) {
                    return true;
                }
            }
            return false;
        } catch (CertificateParsingException e) {
            return false;
        }
    }
}
