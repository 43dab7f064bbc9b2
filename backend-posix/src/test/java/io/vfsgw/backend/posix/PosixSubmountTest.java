package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.Direntplus;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.session.FuseHarness;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tmpfs mounted inside the source is announced with FUSE_ATTR_SUBMOUNT (virtiofsd's
 * announce_submounts), in raw FUSE replies of a session over the posix backend, and only to a kernel
 * that offered FUSE_SUBMOUNTS.
 */
class PosixSubmountTest {
    @TempDir
    Path src;
    Path mnt;
    boolean mounted;
    PosixBackend backend;
    MetadataCache cache;

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (this test needs root): " + out);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        mnt = Files.createDirectory(src.resolve("mnt"));
        Files.createDirectory(src.resolve("plain"));
        run("mount", "-t", "tmpfs", "-o", "size=1m", "vfsgw-submount-test", mnt.toString());
        mounted = true;
        Files.createDirectory(mnt.resolve("inner"));
        Files.writeString(mnt.resolve("f"), "on tmpfs");
        backend = PosixBackend.open(PosixOptions.of(src));
        cache = new MetadataCache(backend, CacheConfig.defaults());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (cache != null) {
            cache.close();
        }
        if (mounted) {
            run("umount", mnt.toString());
        }
    }

    static boolean submount(EntryOut e) {
        return (e.attr().flags() & RequestFlags.FUSE_ATTR_SUBMOUNT) != 0;
    }

    @Test
    void aMountInsideTheSourceIsAnnouncedAsASubmount() {
        try (FuseSession session = new FuseSession(cache, SessionConfig.defaults("test"))) {
            FuseHarness fuse = FuseHarness.over(session);
            fuse.init(); // every flag, FUSE_SUBMOUNTS included (what virtio-fs kernels offer)
            EntryOut m = fuse.lookup(StorageBackend.ROOT_ID, "mnt");
            assertTrue(submount(m), "the tmpfs root carries FUSE_ATTR_SUBMOUNT");
            assertTrue((fuse.getattr(m.nodeid()).attr().flags() & RequestFlags.FUSE_ATTR_SUBMOUNT) != 0,
                    "GETATTR agrees with LOOKUP (the kernel drops a dentry whose flag flips)");
            assertEquals(0, fuse.lookup(StorageBackend.ROOT_ID, "plain").attr().flags());
            assertEquals(0, fuse.lookup(m.nodeid(), "inner").attr().flags(), "inside the submount: plain");
            assertEquals(0, fuse.lookup(m.nodeid(), "f").attr().flags());
            assertEquals(0, fuse.getattr(StorageBackend.ROOT_ID).attr().flags(), "the share's own root is not one");

            long fh = fuse.opendir(StorageBackend.ROOT_ID).fh();
            Map<String, Integer> flags = new HashMap<>();
            for (Direntplus d : fuse.readdirplus(StorageBackend.ROOT_ID, fh, 0, 64 << 10)) {
                flags.put(new String(d.dirent().name(), StandardCharsets.UTF_8), d.entryOut().attr().flags());
            }
            fuse.releasedir(StorageBackend.ROOT_ID, fh);
            assertEquals(RequestFlags.FUSE_ATTR_SUBMOUNT, flags.get("mnt"), "READDIRPLUS announces it too: " + flags);
            assertEquals(0, flags.get("plain"));
        }
    }

    @Test
    void aKernelWithoutSubmountsNeverSeesTheFlag() {
        try (FuseSession session = new FuseSession(cache, SessionConfig.defaults("test"))) {
            FuseHarness fuse = FuseHarness.over(session);
            fuse.init(38, (-1L & ~InitFlags.FUSE_INIT_RESERVED) & ~InitFlags.FUSE_SUBMOUNTS); // /dev/fuse kernels
            EntryOut m = fuse.lookup(StorageBackend.ROOT_ID, "mnt");
            assertEquals(0, m.attr().flags());
            assertEquals(0, fuse.getattr(m.nodeid()).attr().flags());
        }
    }
}
