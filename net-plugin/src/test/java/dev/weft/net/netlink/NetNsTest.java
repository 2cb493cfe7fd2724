package dev.weft.net.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/** Work inside a namespace runs on a thread of its own, and only there. */
class NetNsTest {
    private TestNamespace ns;

    @BeforeEach
    void createNamespace() {
        ns = TestNamespace.create();
    }

    @AfterEach
    void removeNamespace() {
        if (ns != null) {
            ns.close();
        }
    }

    /** The inode of a network namespace: equal inodes, same namespace. */
    private static Object inode(Path nsFile) throws IOException {
        return Files.getAttribute(nsFile, "unix:ino");
    }

    private static Path currentThreadsNetns() {
        return Path.of("/proc/thread-self/ns/net");
    }

    @Test
    void workRunsInTheNamespaceOnADedicatedThread() throws IOException {
        Thread caller = Thread.currentThread();
        Object before = inode(currentThreadsNetns());
        Object target = inode(ns.path());
        assertNotEquals(before, target);

        Object[] seen = NetNs.run(ns.path(), () -> new Object[] {
                inode(currentThreadsNetns()), Thread.currentThread(), Thread.currentThread().getName()});
        assertEquals(target, seen[0]);
        assertNotEquals(caller, seen[1]);
        assertTrue(((String) seen[2]).startsWith("netns-" + ns.name()), (String) seen[2]);
        assertEquals(before, inode(currentThreadsNetns()), "the caller never left its namespace");
        assertTrue(!((Thread) seen[1]).isAlive(), "the thread is discarded after the work");
    }

    @Test
    void aClientOpenedThereStaysThereWhateverThreadCallsIt() {
        try (NetlinkClient nl = NetNs.run(ns.path(), NetlinkClient::open)) {
            nl.createBridge("wftbr0");
            // called from the test's thread, in the host namespace: the socket still speaks to the namespace
            assertTrue(ns.ip("link", "show", "dev", "wftbr0").contains("wftbr0"));
            String names = nl.links().stream().map(Link::name).collect(Collectors.joining(","));
            assertTrue(names.contains("wftbr0") && names.contains("lo"), names);
        }
    }

    @Test
    void exceptionsOfTheWorkReachTheCaller() {
        IOException checked = new IOException("boom");
        assertSame(checked, assertThrows(IOException.class, () -> NetNs.run(ns.path(), () -> {
            throw checked;
        })));
        IllegalStateException unchecked = new IllegalStateException("bang");
        assertSame(unchecked, assertThrows(IllegalStateException.class, () -> NetNs.run(ns.path(), () -> {
            throw unchecked;
        })));
    }

    @Test
    void aMissingNamespaceIsAClearError() {
        NetlinkException e = assertThrows(NetlinkException.class,
                () -> NetNs.run(Path.of("/var/run/netns/wftnl-missing"), () -> "never"));
        assertEquals(Errno.ENOENT, e.error());
        assertEquals("open netns /var/run/netns/wftnl-missing: No such file or directory (ENOENT)", e.getMessage());

        NetlinkException notNs = assertThrows(NetlinkException.class,
                () -> NetlinkClient.openIn(Path.of("/proc/self/status")));
        assertEquals(Errno.EINVAL, notNs.error(), notNs.getMessage());
        assertTrue(notNs.getMessage().startsWith("enter netns /proc/self/status: "), notNs.getMessage());
    }
}
