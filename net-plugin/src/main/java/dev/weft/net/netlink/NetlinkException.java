package dev.weft.net.netlink;

/**
 * A kernel (or libc) call failed. The message names the operation and its object, the error and, when there is
 * one, a detail such as the kernel's extended-ack text: {@code create vxlan wftv0: File exists (EEXIST)},
 * {@code create vxlan wftv1: Invalid argument (EINVAL) - VXLAN: ...}.
 */
public class NetlinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final Errno error;
    private final String detail;

    public NetlinkException(String operation, int errno, String detail) {
        this(operation, Errno.valueOf(errno), detail, null);
    }

    NetlinkException(String operation, Errno error, String detail, Throwable cause) {
        super(operation + ": " + error + (detail == null || detail.isEmpty() ? "" : " - " + detail), cause);
        this.operation = operation;
        this.error = error;
        this.detail = detail == null || detail.isEmpty() ? null : detail;
    }

    /** The numeric errno, such as 17 for EEXIST. */
    public int errno() {
        return error.code();
    }

    public Errno error() {
        return error;
    }

    /** What was attempted, such as {@code create vxlan wftv0}. */
    public String operation() {
        return operation;
    }

    /** The kernel's extended-ack message (or another detail), or null. */
    public String detail() {
        return detail;
    }

    public boolean is(Errno e) {
        return error.equals(e);
    }

    /** The object already exists ({@code EEXIST}). */
    public boolean isExists() {
        return is(Errno.EEXIST);
    }

    /**
     * The object (or the device it names) does not exist: {@code ENOENT}, {@code ENODEV} (links),
     * {@code ESRCH} (routes) or {@code EADDRNOTAVAIL} (addresses) — the kernel's answer differs per object.
     */
    public boolean isNotFound() {
        return is(Errno.ENOENT) || is(Errno.ENODEV) || is(Errno.ESRCH) || is(Errno.EADDRNOTAVAIL);
    }

    /** Missing privileges ({@code EPERM}, {@code EACCES}): not root, or no CAP_NET_ADMIN / CAP_SYS_ADMIN. */
    public boolean isPermission() {
        return is(Errno.EPERM) || is(Errno.EACCES);
    }
}
