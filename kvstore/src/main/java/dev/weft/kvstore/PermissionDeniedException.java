package dev.weft.kvstore;

/**
 * A server refused a forwarded request because of its ACL token (HTTP 403); the message is the server's
 * ("Permission denied" or "ACL not found"). The HTTP API answers it as 403 with that message.
 */
public class PermissionDeniedException extends StoreException {
    public PermissionDeniedException(String message) {
        super(message, null);
    }
}
