package dev.weft.kvstore.tls;

/** TLS material that cannot be used: unreadable, malformed, mismatched, expired or not signed by the CA. */
public final class TlsException extends Exception {
    public TlsException(String message) {
        super(message);
    }

    public TlsException(String message, Throwable cause) {
        super(message, cause);
    }
}
