package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.CreateIn;
import io.vfsgw.fuse.Dirent;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.LinkIn;
import io.vfsgw.fuse.MkdirIn;
import io.vfsgw.fuse.MknodIn;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.Rename2In;
import io.vfsgw.nativeio.Xattrs;
import io.vfsgw.session.FuseHarness;
import io.vfsgw.session.FuseHarness.HarnessReply;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Escape attempts as a hostile guest kernel would make them: raw FUSE requests (the
 * {@link FuseHarness}) to a {@link FuseSession} over the {@link MetadataCache} over a
 * {@link PosixBackend} sharing {@code base/source}. Each attempt must fail with a clear errno and
 * leave the host untouched: {@code base/canary} (a secret file with an xattr, a directory) next to
 * the source is snapshotted before and compared after every test, and nothing new may appear in
 * {@code base} or at the paths a followed symlink would have reached. Runs on disk (target/), not
 * tmpfs, so xattrs are real. docs/security.md lists these attacks.
 */
class PosixEscapeTest {
    private static final long ROOT = 1;
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0100;
    private static final int O_NONBLOCK = 04000;
    private static final String PROBE = "vfsgw-escape-probe";

    private HostTree tree;
    private Path source;
    private Path canary;
    private Map<String, String> before;
    private MetadataCache cache;
    private PosixBackend backend;
    private FuseSession session;
    private FuseHarness fuse;

    @BeforeEach
    void setUp() throws Exception {
        tree = HostTree.create("escape");
        source = tree.source();
        canary = tree.canary();
        Path secret = Files.writeString(canary.resolve("secret"), "top secret");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Xattrs.set(secret.toString(), "user.canary", bytes("v"), 0);
        Files.createDirectory(canary.resolve("sub"));
        before = tree.outsideSource();
        backend = PosixBackend.open(PosixOptions.of(source));
        cache = new MetadataCache(backend, CacheConfig.defaults());
        session = new FuseSession(cache, SessionConfig.defaults("test"));
        fuse = FuseHarness.over(session);
        fuse.init();
    }

    @AfterEach
    void hostIsUntouched() throws Exception {
        try {
            if (session != null) {
                session.close();
            }
            cache.close();
            assertEquals(before, tree.outsideSource(), "the host outside the source changed");
            assertFalse(Files.exists(Path.of("/" + PROBE), LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(Path.of("/etc/" + PROBE), LinkOption.NOFOLLOW_LINKS));
        } finally {
            tree.delete();
        }
    }

    // ------------------------------------------------------------------ names

    @Test
    void dotDotOfTheRootIsTheRoot() {
        EntryOut e = fuse.lookup(ROOT, "..");
        assertEquals(ROOT, e.nodeid());
        assertEquals(ROOT, fuse.lookup(e.nodeid(), "..").nodeid());
        assertEquals(ROOT, fuse.lookup(ROOT, ".").nodeid());
        // readdir's ".." of the root names the root too, not the host directory above it
        long fh = fuse.opendir(ROOT).fh();
        Dirent dotdot = fuse.readdir(ROOT, fh, 0, 4096).stream()
                .filter(d -> new String(d.name(), StandardCharsets.UTF_8).equals("..")).findFirst().orElseThrow();
        assertEquals(ROOT, dotdot.ino());
        fuse.releasedir(ROOT, fh);
        // and nothing can be made there
        assertErrno(Errno.EEXIST, fuse.request(Opcode.MKDIR, ROOT, FuseHarness.args(new MkdirIn(0755, 0),
                FuseHarness.names(".."))));
    }

    @Test
    void namesWithASlashAreEinvalWhateverTheyPointAt() {
        for (String name : List.of("../canary", "../canary/secret", "/etc/passwd", "a/b", "/",
                "/proc/self/fd/3")) {
            assertErrno(Errno.EINVAL, lookup(ROOT, name));
            assertErrno(Errno.EINVAL, fuse.request(Opcode.CREATE, ROOT, FuseHarness.args(
                    new CreateIn(O_RDWR | O_CREAT, 0644, 0, 0), FuseHarness.names(name))));
            assertErrno(Errno.EINVAL, fuse.request(Opcode.MKDIR, ROOT, FuseHarness.args(new MkdirIn(0755, 0),
                    FuseHarness.names(name))));
        }
        assertEquals(List.of(), sourceNames());
    }

    @Test
    void aNulEndsTheNameOnTheWireAndAnUnterminatedNameIsRefused() throws Exception {
        Files.writeString(source.resolve("a"), "inside");
        // "a\0../canary": the wire string ends at the NUL, so this is a lookup of "a", nothing more
        byte[] withNul = "a\0../canary\0".getBytes(StandardCharsets.US_ASCII);
        EntryOut e = entry(fuse.request(Opcode.LOOKUP, ROOT, ByteBuffer.wrap(withNul)));
        assertEquals(fuse.lookup(ROOT, "a").nodeid(), e.nodeid());
        assertEquals(6, e.attr().size());
        // a name that never ends (no NUL in the request) is malformed: EIO, the session keeps serving
        HarnessReply r = fuse.request(Opcode.LOOKUP, ROOT, ByteBuffer.wrap("canary".getBytes(StandardCharsets.US_ASCII)));
        assertErrno(Errno.EIO, r);
        assertEquals(ROOT, fuse.lookup(ROOT, "..").nodeid());
    }

    @Test
    void procSelfFdStyleNamesAreJustNames() throws Exception {
        // a guest making "proc/self/fd/N" inside the share gets exactly that, a tree of plain names
        long proc = fuse.mkdir(ROOT, "proc", 0755).nodeid();
        long self = fuse.mkdir(proc, "self", 0755).nodeid();
        long fd = fuse.mkdir(self, "fd", 0755).nodeid();
        assertNoEntry(lookup(fd, "3"));
        assertNoEntry(lookup(fd, "0"));
        FuseHarness.Created three = fuse.create(fd, "3", 0644, O_RDWR);
        fuse.release(three.nodeid(), three.fh());
        assertTrue(Files.isRegularFile(source.resolve("proc/self/fd/3"), LinkOption.NOFOLLOW_LINKS));
        assertNoEntry(lookup(ROOT, "self"));
        assertNoEntry(lookup(ROOT, "fd"));
    }

    // ------------------------------------------------------------------ symlinks

    @Test
    void aSymlinkToTheHostRootIsNeverFollowed() throws Exception {
        Files.createSymbolicLink(source.resolve("evil"), Path.of("/"));
        Files.createSymbolicLink(source.resolve("up"), Path.of("../canary"));
        long evil = fuse.lookup(ROOT, "evil").nodeid();
        long up = fuse.lookup(ROOT, "up").nodeid();
        assertEquals(0120000, fuse.getattr(evil).attr().mode() & 0170000);
        for (long link : new long[] {evil, up}) {
            assertErrno(Errno.ENOTDIR, lookup(link, "etc"));
            assertErrno(Errno.ENOTDIR, lookup(link, "secret"));
            assertErrno(Errno.ENOTDIR, lookup(link, ".."));
            assertErrno(Errno.ENOTDIR, fuse.request(Opcode.CREATE, link, FuseHarness.args(
                    new CreateIn(O_RDWR | O_CREAT, 0644, 0, 0), FuseHarness.names(PROBE))));
            assertErrno(Errno.ENOTDIR, fuse.request(Opcode.MKDIR, link, FuseHarness.args(new MkdirIn(0755, 0),
                    FuseHarness.names(PROBE))));
            assertErrno(Errno.ENOTDIR, fuse.request(Opcode.OPENDIR, link, FuseHarness.args(new OpenIn(O_RDONLY, 0))));
            assertErrno(Errno.ELOOP, fuse.request(Opcode.OPEN, link, FuseHarness.args(new OpenIn(O_RDWR, 0))));
        }
        // a symlink planted over a name the guest then creates: the create never writes the target
        assertErrno(Errno.EEXIST, fuse.request(Opcode.CREATE, ROOT, FuseHarness.args(
                new CreateIn(O_RDWR | O_CREAT | 01000 | 0200, 0644, 0, 0), FuseHarness.names("up")))); // O_EXCL
        assertErrno(Errno.ELOOP, fuse.request(Opcode.CREATE, ROOT, FuseHarness.args(
                new CreateIn(O_RDWR | O_CREAT | 01000, 0644, 0, 0), FuseHarness.names("up"))));
        assertEquals(Path.of("/"), Files.readSymbolicLink(source.resolve("evil")));
    }

    // ------------------------------------------------------------------ node ids

    @Test
    void linkToANodeNeverLookedUpIsEstale() throws Exception {
        // Nodes only come from lookups below the source, so a node outside cannot be named at all:
        // the closest a guest gets is a node id it was never given (here: one of the canary's inode
        // numbers, and a large random one).
        long canaryIno = (Long) Files.getAttribute(canary.resolve("secret"), "unix:ino");
        for (long forged : new long[] {canaryIno, 2, 424242, Long.MAX_VALUE}) {
            assertErrno(Errno.ESTALE, link(forged, ROOT, "stolen"));
            assertErrno(Errno.ESTALE, fuse.request(Opcode.GETATTR, forged, FuseHarness.args(
                    new io.vfsgw.fuse.GetattrIn(0, 0))));
            assertErrno(Errno.ESTALE, fuse.request(Opcode.OPEN, forged, FuseHarness.args(new OpenIn(O_RDONLY, 0))));
        }
        // a directory cannot be hard-linked, the root least of all
        assertErrno(Errno.EPERM, link(ROOT, ROOT, "rootlink"));
        assertEquals(List.of(), sourceNames());
    }

    @Test
    void aNodeIdFromAnotherSessionIsEstale() throws Exception {
        Files.writeString(source.resolve("mine"), "session A's");
        long mine = fuse.lookup(ROOT, "mine").nodeid();
        FuseSession other = new FuseSession(cache, SessionConfig.defaults("test-b"));
        try {
            FuseHarness b = FuseHarness.over(other);
            b.init();
            assertErrno(Errno.ESTALE, b.request(Opcode.GETATTR, mine, FuseHarness.args(new io.vfsgw.fuse.GetattrIn(0, 0))));
            assertErrno(Errno.ESTALE, b.request(Opcode.OPEN, mine, FuseHarness.args(new OpenIn(O_RDWR, 0))));
            assertErrno(Errno.ESTALE, b.request(Opcode.UNLINK, mine, FuseHarness.args(FuseHarness.names("x"))));
            ByteBuffer link = FuseHarness.buf(LinkIn.SIZE);
            new LinkIn(mine).encodeTo(link);
            assertErrno(Errno.ESTALE, b.request(Opcode.LINK, ROOT, FuseHarness.args(link.flip(),
                    FuseHarness.names("stolen"))));
            // FORGET of a node it does not hold cannot release A's reference
            b.forget(mine, 1_000_000);
            assertEquals(0100000, fuse.getattr(mine).attr().mode() & 0170000);
        } finally {
            other.close();
        }
        assertEquals(List.of("mine"), sourceNames());
    }

    // ------------------------------------------------------------------ privileged objects

    @Test
    void trustedXattrsAreRefusedToNonRoot() throws Exception {
        Path f = Files.writeString(source.resolve("f"), "x");
        long node = fuse.lookup(ROOT, "f").nodeid();
        fuse.credentials(1000, 1000, 4242);
        assertErrno(Errno.EPERM, fuse.setxattr(node, "trusted.overlay.redirect", ByteBuffer.wrap(bytes("/x")), 0));
        assertErrno(Errno.EPERM, fuse.setxattr(node, "security.capability", ByteBuffer.wrap(new byte[20]), 0));
        assertTrue(fuse.setxattr(node, "user.ok", ByteBuffer.wrap(bytes("fine")), 0).ok());
        assertEquals(List.of("user.ok"), Xattrs.list(f.toString()));
        // root may (guest root is host root in the share: docs/security.md, limit 2)
        fuse.credentials(0, 0, 1);
        assertTrue(fuse.setxattr(node, "trusted.t", ByteBuffer.wrap(bytes("root")), 0).ok());
        assertEquals("root", new String(Xattrs.get(f.toString(), "trusted.t"), StandardCharsets.UTF_8));
    }

    @Test
    void mknodOfADeviceIsEpermWithoutAllowDevices() {
        for (int mode : new int[] {0020666, 0060660}) { // char, block
            ByteBuffer in = FuseHarness.buf(MknodIn.SIZE);
            new MknodIn(mode, (1 << 8) | 3, 0).encodeTo(in); // (1,3): /dev/null's twin; (8,0) would be sda
            assertErrno(Errno.EPERM, fuse.request(Opcode.MKNOD, ROOT, FuseHarness.args(in.flip(),
                    FuseHarness.names("dev" + mode))));
        }
        assertEquals(List.of(), sourceNames());
    }

    @Test
    void openOfAFifoIsEnxioWithoutBlocking() throws Exception {
        ByteBuffer in = FuseHarness.buf(MknodIn.SIZE);
        new MknodIn(0010644, 0, 0).encodeTo(in);
        long fifo = entry(fuse.request(Opcode.MKNOD, ROOT, FuseHarness.args(in.flip(), FuseHarness.names("fifo"))))
                .nodeid();
        assertTrue(Files.getAttribute(source.resolve("fifo"), "unix:mode") instanceof Integer m && (m & 0170000) == 0010000);
        for (int flags : new int[] {O_RDONLY, O_RDWR, O_RDONLY | O_NONBLOCK}) {
            CompletableFuture<HarnessReply> r = fuse.requestOnThread(Opcode.OPEN, fifo, FuseHarness.args(new OpenIn(flags, 0)));
            // no writer will ever come: a host open would block the worker forever
            assertErrno(Errno.ENXIO, r.get(10, TimeUnit.SECONDS));
        }
    }

    // ------------------------------------------------------------------ the host moves things

    @Test
    void aDirectoryMovedOutByTheHostIsNoDoorOutside() throws Exception {
        Files.createDirectories(source.resolve("d"));
        Files.writeString(source.resolve("d/inside"), "x");
        long d = fuse.lookup(ROOT, "d").nodeid();
        long inside = fuse.lookup(d, "inside").nodeid();
        Path moved = tree.base().resolve("moved-out");
        Files.move(source.resolve("d"), moved);
        Files.writeString(moved.resolve("outside"), "outside the source now");
        before = tree.outsideSource(); // the host's own moves; from here on it must stay as the host left it

        assertErrno(Errno.ESTALE, lookup(d, "outside"));
        assertErrno(Errno.ESTALE, lookup(d, ".."));
        assertErrno(Errno.ESTALE, fuse.request(Opcode.CREATE, d, FuseHarness.args(
                new CreateIn(O_RDWR | O_CREAT, 0644, 0, 0), FuseHarness.names(PROBE))));
        assertErrno(Errno.ESTALE, fuse.request(Opcode.MKDIR, d, FuseHarness.args(new MkdirIn(0755, 0),
                FuseHarness.names(PROBE))));
        assertErrno(Errno.ESTALE, fuse.request(Opcode.UNLINK, d, FuseHarness.args(FuseHarness.names("outside"))));
        assertErrno(Errno.ESTALE, fuse.request(Opcode.OPENDIR, d, FuseHarness.args(new OpenIn(O_RDONLY, 0))));
        assertErrno(Errno.ESTALE, fuse.rename2(d, "outside", ROOT, "pulled-in", 0));
        assertErrno(Errno.ESTALE, fuse.rename2(ROOT, "x", d, "pushed-out", 0));
        assertErrno(Errno.ESTALE, link(inside, d, "linked-out"));
        // what the guest already held stays what it was (documented limit 1): the file itself
        assertEquals(1, fuse.getattr(inside).attr().size());
        assertEquals(List.of(), sourceNames());
        assertFalse(Files.exists(moved.resolve(PROBE)));
    }

    // ------------------------------------------------------------------ helpers

    private HarnessReply lookup(long parent, String name) {
        return fuse.request(Opcode.LOOKUP, parent, FuseHarness.args(FuseHarness.names(name)));
    }

    private HarnessReply link(long node, long newParent, String name) {
        ByteBuffer in = FuseHarness.buf(LinkIn.SIZE);
        new LinkIn(node).encodeTo(in);
        return fuse.request(Opcode.LINK, newParent, FuseHarness.args(in.flip(), FuseHarness.names(name)));
    }

    private static EntryOut entry(HarnessReply r) {
        try {
            return EntryOut.decode(r.expectOk());
        } catch (io.vfsgw.fuse.MalformedRequestException e) {
            throw new AssertionError(e);
        }
    }

    /** ENOENT, or the negative entry (node id 0) the session answers it with when it may cache it. */
    private static void assertNoEntry(HarnessReply r) {
        if (r.ok()) {
            assertEquals(0, entry(r).nodeid(), "a negative entry");
        } else {
            assertErrno(Errno.ENOENT, r);
        }
    }

    private static void assertErrno(Errno expected, HarnessReply r) {
        assertTrue(r.replied(), "expected a reply");
        assertEquals(expected, r.errno(), "reply error " + r.error());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private List<String> sourceNames() {
        try (Stream<Path> s = Files.list(source)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

}
