package dev.weft.net.netlink;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a piece of work inside a network namespace, on a thread of its own (containernetworking/plugins'
 * {@code pkg/ns}). A namespace belongs to a thread, not to the process: the work's thread enters the namespace
 * with {@code setns(2)}, runs the work, and then ends, so no pooled or caller thread is ever left in a foreign
 * namespace. This class is the only home of {@code setns}.
 *
 * <p>Sockets (netlink, TCP, UDP) stay in the namespace they were created in, so work may create a socket and
 * hand it back to be used from any thread: {@link NetlinkClient#openIn} does exactly that.
 */
public final class NetNs {
    private static final AtomicLong THREADS = new AtomicLong();

    static {
        Native.register(NetNs.class, "c");
    }

    private NetNs() {
    }

    private static native int setns(int fd, int nstype) throws LastErrorException;

    /** Work to run in a namespace; may throw {@code E}. */
    @FunctionalInterface
    public interface Work<T, E extends Exception> {
        T call() throws E;
    }

    /**
     * Runs {@code work} on a new thread that first enters the network namespace {@code nsFile} (such as
     * {@code /var/run/netns/blue} or {@code /proc/PID/ns/net}) and is discarded afterwards. Waits for it and
     * returns its result; what it throws is rethrown here.
     *
     * @throws NetlinkException when the namespace cannot be opened or entered (ENOENT, EPERM, …)
     */
    public static <T, E extends Exception> T run(Path nsFile, Work<T, E> work) throws E {
        String name = nsFile.toString();
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                enter(name);
                result[0] = work.call();
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "netns-" + nsFile.getFileName() + "-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the work is short; finish waiting and keep the interrupt for the caller
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable e = failure[0];
        if (e == null) {
            @SuppressWarnings("unchecked")
            T value = (T) result[0];
            return value;
        }
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        @SuppressWarnings("unchecked")
        E checked = (E) e; // work.call() declares only E
        throw checked;
    }

    /** Moves the calling (dedicated) thread into the namespace. */
    private static void enter(String nsFile) {
        int fd = NetlinkClient.openFile(nsFile, "open netns " + nsFile);
        try {
            setns(fd, Rtnl.CLONE_NEWNET);
        } catch (LastErrorException e) {
            throw new NetlinkException("enter netns " + nsFile, Errno.valueOf(e.getErrorCode()), null, e);
        } finally {
            NetlinkClient.closeQuietly(fd);
        }
    }
}
