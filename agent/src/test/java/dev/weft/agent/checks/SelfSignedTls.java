package dev.weft.agent.checks;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.ByteArrayInputStream;
import java.security.KeyStore;
import java.util.Base64;

/**
 * A self-signed certificate for CN=localhost, IP 127.0.0.1 (EC P-256, valid for 100 years; made with
 * {@code keytool -genkeypair -keyalg EC -groupname secp256r1 -ext san=ip:127.0.0.1,dns:localhost -storetype
 * PKCS12 -storepass changeit}). No JDK trust store trusts it, which is the point.
 */
final class SelfSignedTls {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final String PKCS12 =
            "MIID/AIBAzCCA6YGCSqGSIb3DQEHAaCCA5cEggOTMIIDjzCCASYGCSqGSIb3DQEHAaCCARcEggETMIIBDzCCAQsGCyqGSIb3DQEM"
            + "CgECoIG9MIG6MGYGCSqGSIb3DQEFDTBZMDgGCSqGSIb3DQEFDDArBBQm1l4kCed2EjDY9+p1oKOFbh8N2QICJxACASAwDAYIKoZI"
            + "hvcNAgkFADAdBglghkgBZQMEASoEEJhZhsm1aVI/kdwfdd6f4jMEUEsOUYR3Qm4nSDPU61q8WUoitdmkmmE8RE90fmzWfwChPWGZ"
            + "agGPYyyBaEwND+47M1ogYdyuvzO5AuiPpGeDPpOGQ7Kj/boY0XBjgOlJcbpEMTwwFwYJKoZIhvcNAQkUMQoeCAB3AGUAZgB0MCEG"
            + "CSqGSIb3DQEJFTEUBBJUaW1lIDE3OTU4NjE0MDY1OTcwggJhBgkqhkiG9w0BBwagggJSMIICTgIBADCCAkcGCSqGSIb3DQEHATBm"
            + "BgkqhkiG9w0BBQ0wWTA4BgkqhkiG9w0BBQwwKwQUns2l8oOHlE7cy3UMzkXyy8Dcxb0CAicQAgEgMAwGCCqGSIb3DQIJBQAwHQYJ"
            + "YIZIAWUDBAEqBBCXj0a1v57cjy3mlhkFjZW4gIIB0D5T+1SGIKvhODtZ5lUyg8Ixfawa0QPrWVcxSfl3Q5H2B8uk4jwenkaogpum"
            + "/7Qpup6WmRRLC/dZuprZy0tMAXTpRz/vzGarbxK9Wc3Fsfa8fr5Nr2Pz13mMZJ5XImIfkaGZJYV9uLzPAUmQvOX5ycfxlLApE5U1"
            + "ROmxN1F6mp4t9zxXryN9R9osBFvjcASYx0A0Sk2t07JXkfN4QMA1Z8eOUs0RNB52dMVutV8AIoN2ahhiva4PVntMXXac9gwOeq20"
            + "lkCg7QU7dfQvOiY0ZKJUZkySd4luxZCmkJ9LvL9CrUuC6H68Fc3R4E1FK4aXrAnRib2P7rJROVA2M5Mm//Iu18q7Evby+lVY7BTB"
            + "8Bkwpvvc60LkITuf1lYg0/eAMR4AUOU3MLQ5Ue5+JyuEvcTWF+k8UQG1rKXB7BuAQj7tshgQvQLA1kN0B9hjfxp8WWLYYFCdGXkv"
            + "fO3HtPA0q+TdbFBseym9gpm1lYKERVuSsjT5i9R3a18V/bG3syWZBHeVxPJAuJ1QCL1wjuPYhPjz0HJlTzegoxV/cVnTNPYfd2dH"
            + "VjVOUrInwRreMhZpSyweIvoHTjfrH/qu+3qlsS+znMpBULtHJoJheN5uKmufME0wMTANBglghkgBZQMEAgEFAAQgcvNe8Ps+eq/l"
            + "37cNDRSulZalUKswtc9OY4Fy/8vmqSkEFGHYFTFvguQ/OpVEqejM4Y08eZYRAgInEA==";

    private SelfSignedTls() {
    }

    static SSLContext serverContext() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(new ByteArrayInputStream(Base64.getDecoder().decode(PKCS12)), PASSWORD);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }
}
