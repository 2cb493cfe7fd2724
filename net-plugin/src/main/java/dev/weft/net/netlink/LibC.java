package dev.weft.net.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The libc calls the netlink socket needs, as JNA direct mappings. A failing call throws
 * {@link LastErrorException} carrying {@code errno}. {@code size_t}/{@code ssize_t} are Java {@code long}: Linux
 * on 64-bit machines only. {@code setns} is not here: it lives in {@link NetNs}, its one home.
 */
final class LibC {
    static {
        Native.register(LibC.class, "c");
    }

    private LibC() {
    }

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native int bind(int fd, byte[] address, int addressLength) throws LastErrorException;

    static native int setsockopt(int fd, int level, int name, Pointer value, int valueLength)
            throws LastErrorException;

    static native long send(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

    static native long recv(int fd, Pointer buffer, long length, int flags) throws LastErrorException;

    /** {@code open(2)} without a mode: for opening existing files only. */
    static native int open(String path, int flags) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;
}
