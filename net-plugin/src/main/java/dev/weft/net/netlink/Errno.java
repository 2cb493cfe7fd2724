package dev.weft.net.netlink;

import java.util.Map;
import java.util.Objects;

/**
 * A Linux {@code errno} value with its symbolic name and glibc's description. An open set: {@link #valueOf}
 * accepts any code and names unknown ones {@code E<code>}.
 */
public final class Errno {
    public static final Errno EPERM = new Errno(1, "EPERM", "Operation not permitted");
    public static final Errno ENOENT = new Errno(2, "ENOENT", "No such file or directory");
    public static final Errno ESRCH = new Errno(3, "ESRCH", "No such process");
    public static final Errno EINTR = new Errno(4, "EINTR", "Interrupted system call");
    public static final Errno EIO = new Errno(5, "EIO", "Input/output error");
    public static final Errno EBADF = new Errno(9, "EBADF", "Bad file descriptor");
    public static final Errno EAGAIN = new Errno(11, "EAGAIN", "Resource temporarily unavailable");
    public static final Errno ENOMEM = new Errno(12, "ENOMEM", "Cannot allocate memory");
    public static final Errno EACCES = new Errno(13, "EACCES", "Permission denied");
    public static final Errno EBUSY = new Errno(16, "EBUSY", "Device or resource busy");
    public static final Errno EEXIST = new Errno(17, "EEXIST", "File exists");
    public static final Errno ENODEV = new Errno(19, "ENODEV", "No such device");
    public static final Errno EINVAL = new Errno(22, "EINVAL", "Invalid argument");
    public static final Errno ENOSPC = new Errno(28, "ENOSPC", "No space left on device");
    public static final Errno ERANGE = new Errno(34, "ERANGE", "Numerical result out of range");
    public static final Errno ENOTEMPTY = new Errno(39, "ENOTEMPTY", "Directory not empty");
    public static final Errno EPROTO = new Errno(71, "EPROTO", "Protocol error");
    public static final Errno EMSGSIZE = new Errno(90, "EMSGSIZE", "Message too long");
    public static final Errno EPROTONOSUPPORT = new Errno(93, "EPROTONOSUPPORT", "Protocol not supported");
    public static final Errno EOPNOTSUPP = new Errno(95, "EOPNOTSUPP", "Operation not supported");
    public static final Errno EAFNOSUPPORT = new Errno(97, "EAFNOSUPPORT",
            "Address family not supported by protocol");
    public static final Errno EADDRINUSE = new Errno(98, "EADDRINUSE", "Address already in use");
    public static final Errno EADDRNOTAVAIL = new Errno(99, "EADDRNOTAVAIL", "Cannot assign requested address");
    public static final Errno ENETDOWN = new Errno(100, "ENETDOWN", "Network is down");
    public static final Errno ENETUNREACH = new Errno(101, "ENETUNREACH", "Network is unreachable");
    public static final Errno ENOBUFS = new Errno(105, "ENOBUFS", "No buffer space available");
    public static final Errno ETIMEDOUT = new Errno(110, "ETIMEDOUT", "Connection timed out");
    public static final Errno EHOSTUNREACH = new Errno(113, "EHOSTUNREACH", "No route to host");

    private static final Map<Integer, Errno> KNOWN = Map.ofEntries(
            entry(EPERM), entry(ENOENT), entry(ESRCH), entry(EINTR), entry(EIO), entry(EBADF), entry(EAGAIN),
            entry(ENOMEM), entry(EACCES), entry(EBUSY), entry(EEXIST), entry(ENODEV), entry(EINVAL),
            entry(ENOSPC), entry(ERANGE), entry(ENOTEMPTY), entry(EPROTO), entry(EMSGSIZE),
            entry(EPROTONOSUPPORT), entry(EOPNOTSUPP), entry(EAFNOSUPPORT), entry(EADDRINUSE),
            entry(EADDRNOTAVAIL), entry(ENETDOWN), entry(ENETUNREACH), entry(ENOBUFS), entry(ETIMEDOUT),
            entry(EHOSTUNREACH));

    private final int code;
    private final String name;
    private final String description;

    private Errno(int code, String name, String description) {
        this.code = code;
        this.name = name;
        this.description = description;
    }

    private static Map.Entry<Integer, Errno> entry(Errno e) {
        return Map.entry(e.code, e);
    }

    /** The constant for a known code, or a new value named {@code E<code>} for any other. */
    public static Errno valueOf(int code) {
        Errno known = KNOWN.get(code);
        return known != null ? known : new Errno(code, "E" + code, "Unknown error " + code);
    }

    public int code() {
        return code;
    }

    /** The symbolic name, such as {@code EEXIST}. */
    public String name() {
        return name;
    }

    /** glibc's {@code strerror} text, such as {@code File exists}. */
    public String description() {
        return description;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Errno other && other.code == code;
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(code);
    }

    /** {@code File exists (EEXIST)}. */
    @Override
    public String toString() {
        return description + " (" + name + ")";
    }
}
