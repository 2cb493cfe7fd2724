package dev.weft.kvstore;

/** A write or read barrier failed for a reason other than a normal CAS/lock refusal. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
