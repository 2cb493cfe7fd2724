package dev.weft.net.control;

/**
 * Nothing left to allocate: no free block in the cluster range, no free VNI, no free subnet in a network, or no
 * free address in a host's subnet. Not a caller's mistake and not transient (until something is released).
 */
public final class PoolExhaustedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public PoolExhaustedException(String message) {
        super(message);
    }
}
