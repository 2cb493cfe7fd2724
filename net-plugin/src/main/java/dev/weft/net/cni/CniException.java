package dev.weft.net.cni;

/**
 * A CNI error: its spec code, message and details, answered as {@code {"cniVersion","code","msg","details"}}.
 * Codes 1–99 are the spec's; 100 and 999 are weft's (a CHECK that found differences, an unexpected failure).
 */
final class CniException extends RuntimeException {
    static final int INCOMPATIBLE_VERSION = 1;
    static final int UNSUPPORTED_FIELD = 2;
    static final int UNKNOWN_CONTAINER = 3;
    static final int INVALID_ENVIRONMENT = 4;
    static final int DECODE_FAILURE = 6;
    static final int INVALID_CONFIG = 7;
    static final int TRY_AGAIN_LATER = 11;
    static final int NOT_AVAILABLE = 50;
    static final int CHECK_FAILED = 100;
    static final int INTERNAL = 999;

    private final int code;
    private final String details;

    CniException(int code, String message, String details) {
        super(message);
        this.code = code;
        this.details = details == null ? "" : details;
    }

    CniException(int code, String message) {
        this(code, message, "");
    }

    int code() {
        return code;
    }

    String details() {
        return details;
    }
}
