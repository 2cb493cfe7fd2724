package dev.weft.kvstore;

/** No Raft leader could be reached in time; the HTTP API answers 500 "No cluster leader". */
public final class NoLeaderException extends StoreException {
    public NoLeaderException(String message, Throwable cause) {
        super(message, cause);
    }
}
