package io.vfsgw.backend.posix;

import io.vfsgw.spi.ReadOnlyBackend;

import static io.vfsgw.spi.StorageBackend.ROOT_ID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.testing.OpenFds;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every SPI operation of the posix backend against a real temp directory, checked from the host side. */
class PosixBackendTest {
    static final RequestContext ROOT = RequestContext.ROOT;
    static final RequestContext USER = new RequestContext(1000, 1000, 4242);

    @TempDir
    Path tmp;
    Path src;
    PosixBackend fs;

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectory(tmp.resolve("src"));
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rwxrwxrwx"));
        fs = PosixBackend.open(PosixOptions.of(src));
    }

    @AfterEach
    void tearDown() {
        fs.close();
    }

    static FileName n(String s) {
        return FileName.literal(s);
    }

    static Errno errno(Executable e) {
        return assertThrows(FsException.class, e).errno();
    }

    static Object host(Path p, String attr) throws Exception {
        return Files.getAttribute(p, "unix:" + attr, LinkOption.NOFOLLOW_LINKS);
    }

    Entry lookup(long parent, String name) throws FsException {
        return fs.lookup(ROOT, parent, n(name));
    }

    CreateResult create(RequestContext ctx, long parent, String name, int mode) throws FsException {
        return fs.create(ctx, parent, n(name), mode, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022);
    }

    String readAll(long node, long fh) throws FsException {
        Buffers.Sink sink = new Buffers.Sink(3, 4093);
        fs.read(ROOT, node, fh, 0, sink);
        return sink.string();
    }

    /**
     * The fds this process holds on anything under the test's directory: the backend's fds. The
     * JVM's own fds (jars, a cleaner closing a stray channel) come and go and are not counted.
     */
    long openFds() throws Exception {
        String under = tmp.toRealPath().toString();
        return OpenFds.snapshot().values().stream().filter(target -> target.startsWith(under)).count();
    }

    // ------------------------------------------------------------------ lookup and identity

    @Test
    void lookupReportsHostAttributesAndOneNodePerInode() throws Exception {
        Path f = Files.writeString(src.resolve("f"), "hello");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Files.createLink(src.resolve("hard"), f);
        Entry e = lookup(ROOT_ID, "f");
        assertNotEquals(ROOT_ID, e.nodeId());
        assertEquals(e.nodeId(), e.attr().ino());
        assertEquals(5, e.attr().size());
        assertEquals(0100640, e.attr().mode());
        assertEquals(2, e.attr().nlink());
        assertEquals(lookup(ROOT_ID, "hard").nodeId(), e.nodeId()); // two names, one node
        assertEquals(((FileTime) Files.getAttribute(f, "lastModifiedTime")).toMillis(), e.attr().mtimeNs() / 1_000_000);
        assertEquals(Errno.ENOENT, errno(() -> lookup(ROOT_ID, "missing")));
        assertEquals(Errno.ENOTDIR, errno(() -> lookup(e.nodeId(), "x")));
        assertEquals(Errno.ESTALE, errno(() -> fs.getattr(ROOT, 987654, -1)));
        Attr r = fs.getattr(ROOT, ROOT_ID, -1);
        assertTrue(r.isDirectory());
        assertEquals(ROOT_ID, r.ino());
    }

    @Test
    void forgetClosesTheNodeFdOnlyWhenAllLookupsAreReturned() throws Exception {
        Files.createFile(src.resolve("f"));
        long before = openFds();
        Entry e = lookup(ROOT_ID, "f");
        lookup(ROOT_ID, "f");
        assertEquals(before + 1, openFds());
        fs.forget(e.nodeId(), 1);
        assertEquals(before + 1, openFds());
        fs.getattr(ROOT, e.nodeId(), -1);
        fs.forget(e.nodeId(), 1);
        assertEquals(before, openFds());
        assertEquals(Errno.ESTALE, errno(() -> fs.getattr(ROOT, e.nodeId(), -1)));
        assertEquals(1, fs.nodeCount());
        Entry again = lookup(ROOT_ID, "f");
        assertNotEquals(e.nodeId(), again.nodeId()); // ids are never reused
        fs.forget(ROOT_ID, 1000); // the root is never forgotten
        assertTrue(fs.getattr(ROOT, ROOT_ID, -1).isDirectory());
    }

    @Test
    void dotAndDotDot() throws Exception {
        assertEquals(ROOT_ID, lookup(ROOT_ID, ".").nodeId());
        assertEquals(ROOT_ID, lookup(ROOT_ID, "..").nodeId()); // ".." of the root is the root
        Entry d = fs.mkdir(ROOT, ROOT_ID, n("d"), 0755, 0);
        Entry dd = fs.mkdir(ROOT, d.nodeId(), n("dd"), 0755, 0);
        assertEquals(d.nodeId(), lookup(dd.nodeId(), "..").nodeId());
        assertEquals(ROOT_ID, lookup(d.nodeId(), "..").nodeId());
        assertEquals(d.nodeId(), lookup(d.nodeId(), ".").nodeId());
    }

    // ------------------------------------------------------------------ escapes

    @Test
    void symlinkToRootIsANodeAndNeverFollowed() throws Exception {
        Files.createSymbolicLink(src.resolve("evil"), Path.of("/"));
        Files.createSymbolicLink(src.resolve("etc"), Path.of("/etc"));
        Entry e = lookup(ROOT_ID, "evil");
        assertTrue(e.attr().isSymlink());
        assertEquals(Errno.ENOTDIR, errno(() -> lookup(e.nodeId(), "etc")));
        Entry etc = lookup(ROOT_ID, "etc");
        assertEquals(Errno.ENOTDIR, errno(() -> lookup(etc.nodeId(), "passwd")));
        assertEquals(Errno.ENOTDIR, errno(() -> fs.mkdir(ROOT, etc.nodeId(), n("x"), 0755, 0)));
        assertEquals(Errno.ENOTDIR, errno(() -> fs.opendir(ROOT, etc.nodeId(), 0)));
        assertEquals(Errno.ELOOP, errno(() -> fs.open(ROOT, etc.nodeId(), OpenFlags.O_RDONLY)));
        assertArrayEquals("/".getBytes(), fs.readlink(ROOT, e.nodeId()));
        assertEquals(Errno.EINVAL, errno(() -> fs.readlink(ROOT, ROOT_ID)));
    }

    @Test
    void createOverASymlinkNeverWritesItsTarget() throws Exception {
        Path outside = tmp.resolve("outside-target");
        Files.createSymbolicLink(src.resolve("ln"), outside);
        assertEquals(Errno.EEXIST, errno(() -> fs.create(ROOT, ROOT_ID, n("ln"), 0644,
                OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 0)));
        assertEquals(Errno.ELOOP, errno(() -> fs.create(ROOT, ROOT_ID, n("ln"), 0644,
                OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_TRUNC, 0)));
        assertFalse(Files.exists(outside, LinkOption.NOFOLLOW_LINKS));
        assertEquals(1, fs.nodeCount()); // the failed open gave its lookup back
    }

    /**
     * A CREATE of a name that exists (the guest's negative entry was stale: another guest made the
     * file) opens it, and with O_TRUNC the attributes replied are the truncated file's: the guest
     * kernel takes its inode's size from them. Before, they were read before the truncate.
     */
    @Test
    void aCreateWithOTruncOfAnExistingFileRepliesTheTruncatedSize() throws Exception {
        Files.writeString(src.resolve("f"), "old contents");
        CreateResult c = fs.create(ROOT, ROOT_ID, n("f"), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_TRUNC, 0);
        assertEquals(0, c.entry().attr().size());
        assertEquals(0, Files.size(src.resolve("f")));
        fs.release(ROOT, c.entry().nodeId(), c.open().fh(), 0, 0);
    }

    @Test
    void namesWithSlashCannotBeExpressedAndDotsAreNotCreated() {
        assertEquals(Errno.EINVAL, errno(() -> FileName.of("../etc")));
        assertEquals(Errno.EINVAL, errno(() -> FileName.of("a/b")));
        assertEquals(Errno.EEXIST, errno(() -> fs.mkdir(ROOT, ROOT_ID, n(".."), 0755, 0)));
        assertEquals(Errno.EEXIST, errno(() -> fs.create(ROOT, ROOT_ID, n("."), 0644, OpenFlags.O_RDWR, 0)));
        assertEquals(Errno.EEXIST, errno(() -> fs.symlink(ROOT, ROOT_ID, n(".."), "/".getBytes())));
        assertEquals(Errno.EEXIST, errno(() -> fs.mknod(ROOT, ROOT_ID, n("."), 0010644, 0, 0)));
        assertEquals(Errno.EISDIR, errno(() -> fs.unlink(ROOT, ROOT_ID, n(".."))));
        assertEquals(Errno.EINVAL, errno(() -> fs.rmdir(ROOT, ROOT_ID, n("."))));
        assertEquals(Errno.ENOTEMPTY, errno(() -> fs.rmdir(ROOT, ROOT_ID, n(".."))));
        assertEquals(Errno.EBUSY, errno(() -> fs.rename(ROOT, ROOT_ID, n(".."), ROOT_ID, n("x"), 0)));
        assertTrue(Files.exists(tmp.resolve("src")));
    }

    @Test
    void hardLinkToAnythingOutsideCannotBeExpressed() throws Exception {
        Path secret = Files.writeString(tmp.resolve("secret"), "s");
        // a link names its target by node id, and node ids only come from lookups inside the source
        assertEquals(Errno.ESTALE, errno(() -> fs.link(ROOT, 424242, ROOT_ID, n("stolen"))));
        assertFalse(Files.exists(src.resolve("stolen")));
        // a symlink pointing outside is linked as the symlink itself, never its target
        Files.createSymbolicLink(src.resolve("sl"), secret);
        Entry sl = lookup(ROOT_ID, "sl");
        Entry l = fs.link(ROOT, sl.nodeId(), ROOT_ID, n("sl2"));
        assertEquals(sl.nodeId(), l.nodeId());
        assertTrue(Files.isSymbolicLink(src.resolve("sl2")));
        assertEquals(1L, ((Number) host(secret, "nlink")).longValue());
    }

    @Test
    void trustedAndSecurityXattrsAreRefusedToNonRoot() throws Exception {
        Files.createFile(src.resolve("f"));
        long f = lookup(ROOT_ID, "f").nodeId();
        assertEquals(Errno.EPERM, errno(() -> fs.setxattr(USER, f, "trusted.evil", new byte[] {1}, 0)));
        assertEquals(Errno.EPERM, errno(() -> fs.setxattr(USER, f, "security.capability", new byte[20], 0)));
        assertEquals(Errno.EPERM, errno(() -> fs.removexattr(USER, f, "trusted.evil")));
        fs.setxattr(ROOT, f, "trusted.ok", new byte[] {7}, 0);
        assertEquals(Errno.ENODATA, errno(() -> fs.getxattr(USER, f, "trusted.ok")));
        assertFalse(fs.listxattr(USER, f).contains("trusted.ok"));
        assertTrue(fs.listxattr(ROOT, f).contains("trusted.ok"));
        assertArrayEquals(new byte[] {7}, fs.getxattr(ROOT, f, "trusted.ok"));
    }

    @Test
    void directoryMovedOutByTheHostIsNoDoorOutside() throws Exception {
        Entry a = fs.mkdir(ROOT, ROOT_ID, n("a"), 0755, 0);
        fs.mkdir(ROOT, a.nodeId(), n("inner"), 0755, 0);
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Files.move(src.resolve("a"), outside.resolve("a")); // the host moves it out
        Files.writeString(outside.resolve("a/secret"), "s");
        assertEquals(Errno.ESTALE, errno(() -> lookup(a.nodeId(), "secret")));
        assertEquals(Errno.ESTALE, errno(() -> lookup(a.nodeId(), "..")));
        assertEquals(Errno.ESTALE, errno(() -> fs.mkdir(ROOT, a.nodeId(), n("x"), 0755, 0)));
        assertEquals(Errno.ESTALE, errno(() -> create(ROOT, a.nodeId(), "x", 0644)));
        assertEquals(Errno.ESTALE, errno(() -> fs.unlink(ROOT, a.nodeId(), n("secret"))));
        assertEquals(Errno.ESTALE, errno(() -> fs.rename(ROOT, a.nodeId(), n("secret"), ROOT_ID, n("got"), 0)));
        assertEquals(Errno.ESTALE, errno(() -> fs.opendir(ROOT, a.nodeId(), 0)));
        assertTrue(Files.exists(outside.resolve("a/secret")));
        assertFalse(Files.exists(outside.resolve("a/x")));
        // residual, documented: the held object itself stays reachable, like an open fd
        assertTrue(fs.getattr(ROOT, a.nodeId(), -1).isDirectory());
        // moved back, it works again
        Files.move(outside.resolve("a"), src.resolve("a2"));
        assertEquals("s", readAll(lookup(a.nodeId(), "secret").nodeId(),
                fs.open(ROOT, lookup(a.nodeId(), "secret").nodeId(), OpenFlags.O_RDONLY).fh()));
    }

    @Test
    void lookupsFromAListingAreCheckedOncePerCallAndOnlyWhileItRuns() throws Exception {
        Entry a = fs.mkdir(ROOT, ROOT_ID, n("a"), 0755, 0);
        for (String name : List.of("f1", "f2", "f3")) {
            Files.writeString(src.resolve("a").resolve(name), name);
        }
        long fh = fs.opendir(ROOT, a.nodeId(), 0).fh();
        List<String> found = new ArrayList<>();
        fs.readdir(ROOT, a.nodeId(), fh, 0, e -> {   // as READDIRPLUS: every listed name looked up
            if (!e.name().isDotOrDotDot()) {
                found.add(e.name() + "=" + lookup(a.nodeId(), e.name().toString()).attr().size());
            }
            return true;
        });
        assertEquals(Set.of("f1=2", "f2=2", "f3=2"), new HashSet<>(found));

        // The host moves the held directory out: a listing's lookups are refused, each of them.
        Path outside = Files.createDirectory(tmp.resolve("outside"));
        Files.move(src.resolve("a"), outside.resolve("a"));
        List<Errno> refused = new ArrayList<>();
        fs.readdir(ROOT, a.nodeId(), fh, 0, e -> {
            if (!e.name().isDotOrDotDot()) {
                refused.add(errno(() -> lookup(a.nodeId(), e.name().toString())));
            }
            return true;
        });
        assertEquals(List.of(Errno.ESTALE, Errno.ESTALE, Errno.ESTALE), refused);

        // Moved back, listed (checked), moved out again: a lookup after the listing is checked anew.
        Files.move(outside.resolve("a"), src.resolve("a"));
        fs.readdir(ROOT, a.nodeId(), fh, 0, e -> {
            lookup(a.nodeId(), "f1");
            return false;
        });
        Files.move(src.resolve("a"), outside.resolve("a"));
        assertEquals(Errno.ESTALE, errno(() -> lookup(a.nodeId(), "f2")));
        fs.releasedir(ROOT, a.nodeId(), fh);
    }

    @Test
    void renamedSourceStillWorks() throws Exception {
        Entry a = fs.mkdir(ROOT, ROOT_ID, n("a"), 0755, 0);
        Files.move(src, tmp.resolve("renamed"));
        fs.mkdir(ROOT, a.nodeId(), n("b"), 0755, 0);
        assertTrue(Files.isDirectory(tmp.resolve("renamed/a/b")));
    }

    // ------------------------------------------------------------------ credentials

    @Test
    void creationsAreOwnedByTheCaller() throws Exception {
        CreateResult c = create(USER, ROOT_ID, "f", 0640);
        assertEquals(1000, host(src.resolve("f"), "uid"));
        assertEquals(1000, host(src.resolve("f"), "gid"));
        assertEquals(0100640, host(src.resolve("f"), "mode")); // the JVM's umask is not applied again
        assertEquals(1000, c.entry().attr().uid());
        Entry d = fs.mkdir(USER, ROOT_ID, n("d"), 0777, 0);
        assertEquals(040777, host(src.resolve("d"), "mode"));
        assertEquals(1000, host(src.resolve("d"), "uid"));
        fs.symlink(USER, d.nodeId(), n("sl"), "target".getBytes());
        assertEquals(1000, host(src.resolve("d/sl"), "uid"));
        fs.mknod(USER, d.nodeId(), n("fifo"), 0010600, 0, 0);
        assertEquals(1000, host(src.resolve("d/fifo"), "uid"));
        assertEquals(0010600, host(src.resolve("d/fifo"), "mode"));
        fs.link(USER, c.entry().nodeId(), d.nodeId(), n("hard"));
        assertEquals(2, host(src.resolve("f"), "nlink"));
        // the caller's credentials are gone afterwards: root creates root-owned files again
        create(ROOT, ROOT_ID, "g", 0600);
        assertEquals(0, host(src.resolve("g"), "uid"));
    }

    @Test
    void setgidDirectoriesPassTheirGroupOn() throws Exception {
        Path d = Files.createDirectory(src.resolve("sg"));
        Files.setAttribute(d, "unix:gid", 3000);
        Files.setAttribute(d, "unix:mode", 02777);
        long dn = lookup(ROOT_ID, "sg").nodeId();
        create(USER, dn, "f", 0644);
        assertEquals(3000, host(d.resolve("f"), "gid"));
        fs.mkdir(USER, dn, n("sub"), 0755, 0);
        assertEquals(3000, host(d.resolve("sub"), "gid"));
        assertEquals(02755, (int) host(d.resolve("sub"), "mode") & 07777);
    }

    @Test
    void hostPermissionsApplyToTheCallerOnCreate() throws Exception {
        Path d = Files.createDirectory(src.resolve("rootonly"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        long dn = lookup(ROOT_ID, "rootonly").nodeId();
        assertEquals(Errno.EACCES, errno(() -> create(USER, dn, "f", 0644)));
        assertEquals(Errno.EACCES, errno(() -> fs.mkdir(USER, dn, n("x"), 0755, 0)));
    }

    // ------------------------------------------------------------------ data path

    @Test
    void writeAndReadGoStraightBetweenHostFileAndBuffers() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "f", 0644);
        long node = c.entry().nodeId();
        long fh = c.open().fh();
        byte[] data = new byte[10_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        assertEquals(10_000, fs.write(ROOT, node, fh, 5, new Buffers.Source(data), false));
        byte[] onHost = Files.readAllBytes(src.resolve("f"));
        assertEquals(10_005, onHost.length);
        assertArrayEquals(data, java.util.Arrays.copyOfRange(onHost, 5, 10_005));
        Buffers.Sink sink = new Buffers.Sink(100, 900);
        fs.read(ROOT, node, fh, 5, sink);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 1000), sink.bytes());
        assertEquals(0, sink.copies); // preadv straight into the views, no copy through put()
        assertTrue(sink.viewsCalls >= 1);
        Buffers.Sink tail = new Buffers.Sink(10, 4000);
        fs.read(ROOT, node, fh, 10_000, tail);
        assertEquals(5, tail.filled); // short only at EOF
        Buffers.Sink past = new Buffers.Sink(10, 10);
        fs.read(ROOT, node, fh, 50_000, past);
        assertEquals(0, past.filled);
        fs.release(ROOT, node, fh, 0, 0);
        assertEquals(Errno.EBADF, errno(() -> fs.read(ROOT, node, fh, 0, new Buffers.Sink(1, 1))));
    }

    @Test
    void openFlagsAndHandleErrors() throws Exception {
        Files.writeString(src.resolve("f"), "0123456789");
        long node = lookup(ROOT_ID, "f").nodeId();
        OpenResult ro = fs.open(ROOT, node, OpenFlags.O_RDONLY);
        assertEquals(Errno.EBADF, errno(() -> fs.write(ROOT, node, ro.fh(), 0, Buffers.Source.of("x"), false)));
        OpenResult ap = fs.open(ROOT, node, OpenFlags.O_WRONLY | OpenFlags.O_APPEND);
        fs.write(ROOT, node, ap.fh(), 0, Buffers.Source.of("AB"), false);
        assertEquals("0123456789AB", Files.readString(src.resolve("f")));
        OpenResult tr = fs.open(ROOT, node, OpenFlags.O_RDWR | OpenFlags.O_TRUNC | OpenFlags.O_DIRECT);
        assertFalse(tr.directIo()); // O_DIRECT stripped unless allowDirectIo
        assertEquals(0, Files.size(src.resolve("f")));
        assertEquals(Errno.EISDIR, errno(() -> fs.open(ROOT, ROOT_ID, OpenFlags.O_RDONLY)));
        assertEquals(Errno.EBADF, errno(() -> fs.read(ROOT, ROOT_ID, ro.fh(), 0, new Buffers.Sink(1, 1))));
        assertEquals(Errno.EBADF, errno(() -> fs.read(ROOT, node, 99999, 0, new Buffers.Sink(1, 1))));
        long before = fs.handleCount();
        fs.release(ROOT, node, ro.fh(), 0, 0);
        fs.release(ROOT, node, ap.fh(), 0, 0);
        fs.release(ROOT, node, tr.fh(), 0, 0);
        assertEquals(before - 3, fs.handleCount());
    }

    @Test
    void createExistingWithoutExclOpensItAndWithExclFails() throws Exception {
        Files.writeString(src.resolve("f"), "keep");
        CreateResult c = fs.create(ROOT, ROOT_ID, n("f"), 0600, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 0);
        assertEquals("keep", readAll(c.entry().nodeId(), c.open().fh()));
        assertEquals(Errno.EEXIST, errno(() -> fs.create(ROOT, ROOT_ID, n("f"), 0600,
                OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 0)));
        assertEquals(Errno.ENOTDIR, errno(() -> create(ROOT, c.entry().nodeId(), "x", 0600)));
    }

    @Test
    void writeBySomeoneElseClearsSuid() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "suid", 0644);
        long node = c.entry().nodeId();
        fs.setattr(ROOT, node, SetAttr.owner(1000, 1000));
        fs.setattr(ROOT, node, SetAttr.mode(06755));
        assertEquals(06755, (int) host(src.resolve("suid"), "mode") & 07777);
        fs.write(USER, node, c.open().fh(), 0, Buffers.Source.of("x"), true);
        assertEquals(0755, (int) host(src.resolve("suid"), "mode") & 07777);
        fs.setattr(ROOT, node, SetAttr.mode(06755));
        fs.write(ROOT, node, c.open().fh(), 0, Buffers.Source.of("y"), true); // root without CAP_FSETID
        assertEquals(0755, (int) host(src.resolve("suid"), "mode") & 07777);
        fs.setattr(ROOT, node, SetAttr.mode(04755));
        fs.write(ROOT, node, c.open().fh(), 0, Buffers.Source.of("z"), false);
        assertEquals(04755, (int) host(src.resolve("suid"), "mode") & 07777);
    }

    // ------------------------------------------------------------------ attributes

    @Test
    void setattrChangesWhatTheHostSees() throws Exception {
        Files.writeString(src.resolve("f"), "0123456789");
        long node = lookup(ROOT_ID, "f").nodeId();
        long ctime0 = fs.getattr(ROOT, node, -1).ctimeNs();
        Attr a = fs.setattr(ROOT, node, SetAttr.mode(0600));
        assertEquals(0100600, a.mode());
        assertEquals(0100600, host(src.resolve("f"), "mode"));
        a = fs.setattr(ROOT, node, SetAttr.owner(1234, null));
        assertEquals(1234, host(src.resolve("f"), "uid"));
        assertEquals(0, host(src.resolve("f"), "gid"));
        a = fs.setattr(ROOT, node, SetAttr.size(3));
        assertEquals(3, a.size());
        assertEquals("012", Files.readString(src.resolve("f")));
        a = fs.setattr(ROOT, node, SetAttr.times(1_000_000_123L, false, 2_000_000_456L, false));
        assertEquals(1_000_000_123L, a.atimeNs());
        assertEquals(2_000_000_456L, a.mtimeNs());
        assertEquals(2000, ((FileTime) Files.getAttribute(src.resolve("f"), "lastModifiedTime")).toMillis());
        a = fs.setattr(ROOT, node, SetAttr.times(null, false, null, true));
        assertEquals(1_000_000_123L, a.atimeNs()); // untouched
        assertTrue(a.mtimeNs() > 2_000_000_456L);
        assertTrue(a.ctimeNs() >= ctime0);
        OpenResult h = fs.open(ROOT, node, OpenFlags.O_RDWR);
        a = fs.setattr(ROOT, node, new SetAttr(null, null, null, 1L, null, false, null, false, null, h.fh(), false));
        assertEquals(1, a.size());
        assertEquals(Errno.EISDIR, errno(() -> fs.setattr(ROOT, ROOT_ID, SetAttr.size(0))));
        assertEquals(Errno.EINVAL, errno(() -> fs.setattr(ROOT, node, SetAttr.size(-1))));
        Files.createSymbolicLink(src.resolve("sl"), Path.of("f"));
        long sl = lookup(ROOT_ID, "sl").nodeId();
        fs.setattr(ROOT, sl, SetAttr.owner(77, 78)); // lchown: the link, not the target
        assertEquals(77, host(src.resolve("sl"), "uid"));
        assertEquals(1234, host(src.resolve("f"), "uid"));
        assertEquals(Errno.EOPNOTSUPP, errno(() -> fs.setattr(ROOT, sl, SetAttr.mode(0777))));
    }

    @Test
    void xattrsRoundTripAndHostErrnosPassThrough() throws Exception {
        Files.createFile(src.resolve("f"));
        Files.createSymbolicLink(src.resolve("sl"), Path.of("f"));
        long f = lookup(ROOT_ID, "f").nodeId();
        long sl = lookup(ROOT_ID, "sl").nodeId();
        fs.setxattr(USER, f, "user.color", "blue".getBytes(), 0);
        assertEquals("blue", new String(fs.getxattr(USER, f, "user.color"), StandardCharsets.UTF_8));
        var view = Files.getFileAttributeView(src.resolve("f"), java.nio.file.attribute.UserDefinedFileAttributeView.class);
        assertEquals(List.of("color"), view.list());
        assertEquals(List.of("user.color"), fs.listxattr(USER, f));
        assertEquals(Errno.EEXIST, errno(() -> fs.setxattr(USER, f, "user.color", new byte[1], StorageBackend.XATTR_CREATE)));
        assertEquals(Errno.ENODATA, errno(() -> fs.setxattr(USER, f, "user.x", new byte[1], StorageBackend.XATTR_REPLACE)));
        assertEquals(Errno.ENODATA, errno(() -> fs.getxattr(USER, f, "user.none")));
        assertEquals(Errno.EPERM, errno(() -> fs.setxattr(USER, sl, "user.color", new byte[1], 0))); // Linux: no user.* on symlinks
        fs.removexattr(USER, f, "user.color");
        assertEquals(List.of(), view.list());
        assertEquals(Errno.ENODATA, errno(() -> fs.removexattr(USER, f, "user.color")));
        try (PosixBackend off = PosixBackend.open(PosixOptions.of(src).withXattr(false))) {
            assertEquals(Errno.EOPNOTSUPP, errno(() -> off.getxattr(ROOT, ROOT_ID, "user.x")));
            assertEquals(Errno.EOPNOTSUPP, errno(() -> off.listxattr(ROOT, ROOT_ID)));
        }
    }

    // ------------------------------------------------------------------ names

    @Test
    void unlinkAndRmdirWithTheirErrnos() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "f", 0644);
        fs.write(ROOT, c.entry().nodeId(), c.open().fh(), 0, Buffers.Source.of("still here"), false);
        Entry d = fs.mkdir(ROOT, ROOT_ID, n("d"), 0755, 0);
        fs.mkdir(ROOT, d.nodeId(), n("sub"), 0755, 0);
        assertEquals(Errno.ENOENT, errno(() -> fs.unlink(ROOT, ROOT_ID, n("missing"))));
        assertEquals(Errno.EISDIR, errno(() -> fs.unlink(ROOT, ROOT_ID, n("d"))));
        assertEquals(Errno.ENOTEMPTY, errno(() -> fs.rmdir(ROOT, ROOT_ID, n("d"))));
        assertEquals(Errno.ENOTDIR, errno(() -> fs.rmdir(ROOT, ROOT_ID, n("f"))));
        fs.unlink(ROOT, ROOT_ID, n("f"));
        assertFalse(Files.exists(src.resolve("f")));
        // unlinked but referenced: still usable
        assertEquals(0, fs.getattr(ROOT, c.entry().nodeId(), -1).nlink());
        assertEquals("still here", readAll(c.entry().nodeId(), c.open().fh()));
        fs.rmdir(ROOT, d.nodeId(), n("sub"));
        fs.rmdir(ROOT, ROOT_ID, n("d"));
        assertFalse(Files.exists(src.resolve("d")));
        assertEquals(Errno.ENOENT, errno(() -> fs.mkdir(ROOT, d.nodeId(), n("x"), 0755, 0)));
    }

    @Test
    void renameWithFlags() throws Exception {
        Files.writeString(src.resolve("a"), "A");
        Files.writeString(src.resolve("b"), "B");
        Entry d = fs.mkdir(ROOT, ROOT_ID, n("d"), 0755, 0);
        long a = lookup(ROOT_ID, "a").nodeId();
        fs.rename(ROOT, ROOT_ID, n("a"), d.nodeId(), n("a2"), 0);
        assertEquals("A", Files.readString(src.resolve("d/a2")));
        assertEquals(a, lookup(d.nodeId(), "a2").nodeId()); // same inode, same node
        assertEquals(Errno.EEXIST, errno(() -> fs.rename(ROOT, ROOT_ID, n("b"), d.nodeId(), n("a2"),
                StorageBackend.RENAME_NOREPLACE)));
        fs.rename(ROOT, ROOT_ID, n("b"), d.nodeId(), n("a2"), StorageBackend.RENAME_EXCHANGE);
        assertEquals("B", Files.readString(src.resolve("d/a2")));
        assertEquals("A", Files.readString(src.resolve("b")));
        assertEquals(Errno.EINVAL, errno(() -> fs.rename(ROOT, ROOT_ID, n("b"), ROOT_ID, n("c"),
                StorageBackend.RENAME_WHITEOUT)));
        assertEquals(Errno.EINVAL, errno(() -> fs.rename(ROOT, ROOT_ID, n("d"), d.nodeId(), n("inside"), 0)));
        assertEquals(Errno.ENOENT, errno(() -> fs.rename(ROOT, ROOT_ID, n("zz"), ROOT_ID, n("c"), 0)));
        assertEquals(Errno.ENOTDIR, errno(() -> fs.rename(ROOT, ROOT_ID, n("d"), ROOT_ID, n("b"), 0)));
    }

    @Test
    void symlinkAndMknod() throws Exception {
        Entry s = fs.symlink(ROOT, ROOT_ID, n("s"), "../../etc/passwd".getBytes());
        assertTrue(s.attr().isSymlink());
        assertEquals("../../etc/passwd", Files.readSymbolicLink(src.resolve("s")).toString());
        assertEquals(Errno.EEXIST, errno(() -> fs.symlink(ROOT, ROOT_ID, n("s"), "x".getBytes())));
        assertEquals(Errno.ENAMETOOLONG, errno(() -> fs.symlink(ROOT, ROOT_ID, n("t"), new byte[5000])));
        Entry fifo = fs.mknod(ROOT, ROOT_ID, n("p"), 0010644, 0, 0);
        assertEquals(FileType.FIFO, fifo.attr().type());
        assertEquals(Errno.ENXIO, errno(() -> fs.open(ROOT, fifo.nodeId(), OpenFlags.O_RDONLY))); // never blocks
        Entry reg = fs.mknod(ROOT, ROOT_ID, n("r"), 0100600, 0, 0);
        assertTrue(reg.attr().isRegular());
        int nullDev = (1 << 8) | 3;
        assertEquals(Errno.EPERM, errno(() -> fs.mknod(ROOT, ROOT_ID, n("null"), 0020666, nullDev, 0)));
        assertFalse(Files.exists(src.resolve("null")));
        assertEquals(Errno.EINVAL, errno(() -> fs.mknod(ROOT, ROOT_ID, n("dir"), 0040755, 0, 0)));
        try (PosixBackend dev = PosixBackend.open(PosixOptions.of(src).withAllowDevices(true))) {
            Entry e = dev.mknod(ROOT, ROOT_ID, n("null"), 0020666, nullDev, 0);
            assertEquals(nullDev, e.attr().rdev());
            assertEquals(FileType.CHARACTER_DEVICE, e.attr().type());
            assertEquals((1L << 8) | 3, ((Number) host(src.resolve("null"), "rdev")).longValue());
            assertEquals(Errno.ENXIO, errno(() -> dev.open(ROOT, e.nodeId(), OpenFlags.O_RDWR)));
        }
    }

    @Test
    void tmpfileCanBeLinkedLater() throws Exception {
        CreateResult t = fs.tmpfile(USER, ROOT_ID, 0600, OpenFlags.O_RDWR, 0);
        assertEquals(0, t.entry().attr().nlink());
        fs.write(USER, t.entry().nodeId(), t.open().fh(), 0, Buffers.Source.of("anon"), false);
        try (var s = Files.list(src)) {
            assertEquals(0, s.count());
        }
        Entry named = fs.link(USER, t.entry().nodeId(), ROOT_ID, n("named"));
        assertEquals(t.entry().nodeId(), named.nodeId());
        assertEquals("anon", Files.readString(src.resolve("named")));
        assertEquals(1000, host(src.resolve("named"), "uid"));
    }

    // ------------------------------------------------------------------ directories

    @Test
    void readdirCookiesResumeWithoutDuplicatesOrGaps() throws Exception {
        Set<String> want = new HashSet<>(List.of(".", ".."));
        for (int i = 0; i < 200; i++) {
            Files.createFile(src.resolve("file-" + i));
            want.add("file-" + i);
        }
        Files.createDirectory(src.resolve("dir"));
        Files.createSymbolicLink(src.resolve("link"), Path.of("x"));
        want.addAll(List.of("dir", "link"));
        long known = lookup(ROOT_ID, "file-7").nodeId();
        OpenResult h = fs.opendir(ROOT, ROOT_ID, 0);
        Map<String, DirEntry> seen = new HashMap<>();
        long cookie = 0;
        int calls = 0;
        while (true) {
            List<DirEntry> page = new ArrayList<>();
            fs.readdir(ROOT, ROOT_ID, h.fh(), cookie, e -> page.size() < 16 && page.add(e));
            calls++;
            if (page.isEmpty()) {
                break;
            }
            for (DirEntry e : page) {
                assertTrue(seen.put(e.name().toString(), e) == null, "twice: " + e.name());
            }
            cookie = page.get(page.size() - 1).nextCookie();
        }
        assertEquals(want, seen.keySet());
        assertTrue(calls > 10);
        assertEquals(FileType.DIRECTORY, seen.get("dir").type());
        assertEquals(FileType.SYMLINK, seen.get("link").type());
        assertEquals(FileType.REGULAR, seen.get("file-1").type());
        assertEquals(known, seen.get("file-7").ino()); // held nodes show their node id
        assertEquals(ROOT_ID, seen.get("..").ino());
        fs.releasedir(ROOT, ROOT_ID, h.fh());
        assertEquals(Errno.ENOTDIR, errno(() -> fs.opendir(ROOT, known, 0)));
        assertEquals(Errno.EBADF, errno(() -> fs.readdir(ROOT, ROOT_ID, h.fh(), 0, e -> true)));
    }

    @Test
    void readdirOfADirectoryRemovedMeanwhileFailsWithTheHostsEnoent() throws Exception {
        Entry d = fs.mkdir(ROOT, ROOT_ID, n("d"), 0755, 0);
        OpenResult h = fs.opendir(ROOT, d.nodeId(), 0);
        fs.rmdir(ROOT, ROOT_ID, n("d"));
        List<DirEntry> got = new ArrayList<>();
        assertEquals(Errno.ENOENT, errno(() -> fs.readdir(ROOT, d.nodeId(), h.fh(), 0, got::add)));
        assertTrue(got.isEmpty());
        fs.fsyncdir(ROOT, d.nodeId(), h.fh(), false);
        fs.releasedir(ROOT, d.nodeId(), h.fh());
    }

    // ------------------------------------------------------------------ filesystem-level and ranges

    @Test
    void statfsSyncFlushFsync() throws Exception {
        StatFs s = fs.statfs(ROOT, ROOT_ID);
        assertTrue(s.blocks() > 0 && s.blockSize() > 0 && s.nameMax() == 255);
        assertTrue(s.blocksAvailable() <= s.blocksFree());
        fs.syncfs(ROOT);
        CreateResult c = create(ROOT, ROOT_ID, "f", 0644);
        long before = openFds();
        fs.flush(ROOT, c.entry().nodeId(), c.open().fh(), 1);
        assertEquals(before, openFds()); // the dup was closed
        fs.fsync(ROOT, c.entry().nodeId(), c.open().fh(), false);
        fs.fsync(ROOT, c.entry().nodeId(), c.open().fh(), true);
        assertEquals(Errno.EBADF, errno(() -> fs.fsync(ROOT, c.entry().nodeId(), 12345, false)));
    }

    @Test
    void fallocateSeekDataHoleCopyFileRange() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "sparse", 0644);
        long node = c.entry().nodeId();
        long fh = c.open().fh();
        fs.setattr(ROOT, node, SetAttr.size(1 << 20));
        fs.write(ROOT, node, fh, 65536, new Buffers.Source(new byte[4096]), false);
        assertEquals(65536, fs.lseek(ROOT, node, fh, 0, StorageBackend.SEEK_DATA));
        assertEquals(0, fs.lseek(ROOT, node, fh, 0, StorageBackend.SEEK_HOLE));
        assertEquals(Errno.ENXIO, errno(() -> fs.lseek(ROOT, node, fh, 2 << 20, StorageBackend.SEEK_DATA)));
        fs.fallocate(ROOT, node, fh, StorageBackend.FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 16);
        assertEquals(1 << 20, Files.size(src.resolve("sparse")));
        assertTrue(fs.getattr(ROOT, node, -1).blocks() >= 128 + 8);
        fs.fallocate(ROOT, node, fh, 0, 0, 2 << 20);
        assertEquals(2 << 20, Files.size(src.resolve("sparse")));
        fs.fallocate(ROOT, node, fh, StorageBackend.FALLOC_FL_PUNCH_HOLE | StorageBackend.FALLOC_FL_KEEP_SIZE, 0, 4096);
        assertEquals(Errno.EOPNOTSUPP, errno(() -> fs.fallocate(ROOT, node, fh, StorageBackend.FALLOC_FL_PUNCH_HOLE, 0, 4096)));
        fs.write(ROOT, node, fh, 0, Buffers.Source.of("copy me"), false);
        CreateResult d = create(ROOT, ROOT_ID, "dst", 0644);
        assertEquals(7, fs.copyFileRange(ROOT, node, fh, 0, d.entry().nodeId(), d.open().fh(), 3, 7, 0));
        assertEquals("\0\0\0copy me", Files.readString(src.resolve("dst")));
        assertEquals(0, fs.copyFileRange(ROOT, node, fh, 3 << 20, d.entry().nodeId(), d.open().fh(), 0, 7, 0));
    }

    /** chown(f, -1, -1) arrives as a SETATTR with nothing in it: a host chown(-1, -1) for those Linux allows it. */
    @Test
    void anEmptySetattrIsTheHostsChownMinusOne() throws Exception {
        SetAttr nothing = new SetAttr(null, null, null, null, null, false, null, false, null, null, false);
        long node = create(ROOT, ROOT_ID, "su", 0755).entry().nodeId();
        fs.setattr(ROOT, node, SetAttr.mode(06755));
        long before = fs.getattr(ROOT, node, -1).ctimeNs();
        Thread.sleep(10);
        Attr a = fs.setattr(ROOT, node, nothing);
        assertEquals(0755, a.mode() & 07777);
        assertEquals(0100755, host(src.resolve("su"), "mode"));
        assertTrue(a.ctimeNs() > before, "ctime moves");
        fs.setattr(ROOT, node, SetAttr.mode(06755));
        RequestContext stranger = new RequestContext(1000, 1000, 7);
        assertEquals(06755, fs.setattr(stranger, node, nothing).mode() & 07777, "not the owner, may not write: kept");
    }

    // ------------------------------------------------------------------ locks

    @Test
    void posixLocksConflictBetweenOwnersAndGoAwayOnFlush() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "lk", 0644);
        long node = c.entry().nodeId();
        OpenResult h2 = fs.open(ROOT, node, OpenFlags.O_RDWR);
        long fh1 = c.open().fh();
        fs.setlk(ROOT, node, fh1, new Lock(Lock.F_WRLCK, 0, 99, 111, 1), false, false);
        assertEquals(Errno.EAGAIN, errno(() ->
                fs.setlk(ROOT, node, h2.fh(), new Lock(Lock.F_RDLCK, 50, 50, 222, 2), false, false)));
        Lock conflict = fs.getlk(ROOT, node, h2.fh(), new Lock(Lock.F_RDLCK, 50, 60, 222, 2));
        assertEquals(Lock.F_WRLCK, conflict.type());
        assertEquals(0, conflict.start());
        assertEquals(99, conflict.end());
        // the same owner may re-lock its own range
        fs.setlk(ROOT, node, fh1, new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 111, 1), false, false);
        Lock whole = fs.getlk(ROOT, node, h2.fh(), new Lock(Lock.F_WRLCK, 500, 600, 222, 2));
        assertEquals(Long.MAX_VALUE, whole.end());
        // owner 111 closes the file: its locks go
        fs.flush(ROOT, node, fh1, 111);
        assertEquals(Lock.F_UNLCK, fs.getlk(ROOT, node, h2.fh(), new Lock(Lock.F_WRLCK, 0, 10, 222, 2)).type());
        fs.setlk(ROOT, node, h2.fh(), new Lock(Lock.F_WRLCK, 0, Long.MAX_VALUE, 222, 2), true, false);
        fs.setlk(ROOT, node, h2.fh(), new Lock(Lock.F_UNLCK, 0, Long.MAX_VALUE, 222, 2), false, false);
        assertEquals(1, fs.closeIdleLockFds()); // owner 222 holds nothing: its fd can go under fd pressure
    }

    @Test
    void flockConflictsBetweenHandles() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "fl", 0644);
        long node = c.entry().nodeId();
        OpenResult h2 = fs.open(ROOT, node, OpenFlags.O_RDONLY);
        fs.setlk(ROOT, node, c.open().fh(), new Lock(Lock.F_WRLCK, 0, Long.MAX_VALUE, 1, 1), false, true);
        assertEquals(Errno.EAGAIN, errno(() ->
                fs.setlk(ROOT, node, h2.fh(), new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 2, 2), false, true)));
        fs.release(ROOT, node, c.open().fh(), 0, 1); // releasing the handle drops its flock
        fs.setlk(ROOT, node, h2.fh(), new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 2, 2), false, true);
    }

    /** A blocking lock request on a thread of its own, as the session's lock-wait pool runs it. */
    private final class Waiter {
        final CompletableFuture<Errno> result = new CompletableFuture<>();
        final Thread thread;

        Waiter(long node, long fh, Lock lock, boolean flock) {
            thread = new Thread(() -> {
                try {
                    fs.setlk(ROOT, node, fh, lock, true, flock);
                    result.complete(null);
                } catch (FsException e) {
                    result.complete(e.errno());
                }
            });
            thread.start();
        }

        /** Waits until the request is parked (it found the lock taken), then returns this. */
        Waiter parked(int expectedWaiters) throws InterruptedException {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (fs.lockWaiters() < expectedWaiters && !result.isDone()) {
                assertTrue(System.nanoTime() < deadline, "the lock request never started waiting");
                Thread.sleep(1);
            }
            assertFalse(result.isDone(), "the lock request did not wait: " + result.getNow(null));
            return this;
        }

        Errno outcome() throws Exception {
            return result.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void blockingLockWaitsForItsHolderAndAnInterruptEndsTheWaitWithEintr() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "lkw", 0644);
        long node = c.entry().nodeId();
        long fh2 = fs.open(ROOT, node, OpenFlags.O_RDWR).fh();
        fs.setlk(ROOT, node, c.open().fh(), new Lock(Lock.F_WRLCK, 0, 9, 111, 1), false, false);

        // FUSE_INTERRUPT (or the guest leaving) interrupts the waiting thread: EINTR, nothing taken.
        Waiter interrupted = new Waiter(node, fh2, new Lock(Lock.F_WRLCK, 5, 5, 222, 2), false).parked(1);
        interrupted.thread.interrupt();
        assertEquals(Errno.EINTR, interrupted.outcome());
        assertEquals(0, fs.lockWaiters());

        // The holder closes the file: the waiter gets the lock.
        Waiter waiter = new Waiter(node, fh2, new Lock(Lock.F_WRLCK, 5, 5, 222, 2), false).parked(1);
        fs.flush(ROOT, node, c.open().fh(), 111);
        assertNull(waiter.outcome());
        Lock held = fs.getlk(ROOT, node, c.open().fh(), new Lock(Lock.F_RDLCK, 0, 9, 333, 3));
        assertEquals(Lock.F_WRLCK, held.type());
        assertEquals(5, held.start());
        assertEquals(2, held.pid());

        // A host process's lock (here this JVM's own fcntl lock, which conflicts with OFD locks) is
        // released without telling vfsgw: the waiter still gets the lock, by trying again.
        try (FileChannel ch = FileChannel.open(src.resolve("lkw"), StandardOpenOption.WRITE)) {
            FileLock host = ch.lock(20, 10, false);
            Waiter behindHost = new Waiter(node, fh2, new Lock(Lock.F_RDLCK, 25, 25, 444, 4), false).parked(1);
            host.release();
            assertNull(behindHost.outcome());
        }
    }

    @Test
    void aWaitThatWouldCloseACycleOfOwnersFailsWithEdeadlk() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "dl", 0644);
        long node = c.entry().nodeId();
        long fh1 = c.open().fh();
        long fh2 = fs.open(ROOT, node, OpenFlags.O_RDWR).fh();
        fs.setlk(ROOT, node, fh1, new Lock(Lock.F_WRLCK, 0, 0, 1, 1), false, false);
        fs.setlk(ROOT, node, fh2, new Lock(Lock.F_WRLCK, 1, 1, 2, 2), false, false);
        Waiter first = new Waiter(node, fh1, new Lock(Lock.F_WRLCK, 1, 1, 1, 1), false).parked(1);
        // owner 2 waiting for byte 0 would wait for owner 1, who waits for owner 2: refused, as the kernel does
        assertEquals(Errno.EDEADLK, errno(() -> fs.setlk(ROOT, node, fh2, new Lock(Lock.F_WRLCK, 0, 0, 2, 2), true, false)));
        fs.setlk(ROOT, node, fh2, new Lock(Lock.F_UNLCK, 1, 1, 2, 2), false, false);
        assertNull(first.outcome());
    }

    @Test
    void blockingFlockWaitsAndIsInterruptible() throws Exception {
        CreateResult c = create(ROOT, ROOT_ID, "flw", 0644);
        long node = c.entry().nodeId();
        long fh2 = fs.open(ROOT, node, OpenFlags.O_RDONLY).fh();
        fs.setlk(ROOT, node, c.open().fh(), new Lock(Lock.F_WRLCK, 0, Long.MAX_VALUE, 1, 1), false, true);
        Waiter interrupted = new Waiter(node, fh2, new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 2, 2), true).parked(1);
        interrupted.thread.interrupt();
        assertEquals(Errno.EINTR, interrupted.outcome());
        Waiter waiter = new Waiter(node, fh2, new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 2, 2), true).parked(1);
        fs.setlk(ROOT, node, c.open().fh(), new Lock(Lock.F_RDLCK, 0, Long.MAX_VALUE, 1, 1), false, true); // downgrade
        assertNull(waiter.outcome());
    }

    // ------------------------------------------------------------------ read-only

    @Test
    void readOnlyRefusesEveryMutationWithErofs() throws Exception {
        Files.writeString(src.resolve("f"), "data");
        StorageBackend ro = new ReadOnlyBackend(PosixBackend.open(PosixOptions.of(src)));
        try {
            long f = ro.lookup(ROOT, ROOT_ID, n("f")).nodeId();
            OpenResult h = ro.open(ROOT, f, OpenFlags.O_RDONLY);
            Buffers.Sink sink = new Buffers.Sink(2, 10);
            ro.read(ROOT, f, h.fh(), 0, sink);
            assertEquals("data", sink.string());
            List<Executable> mutations = List.of(
                    () -> ro.open(ROOT, f, OpenFlags.O_WRONLY),
                    () -> ro.open(ROOT, f, OpenFlags.O_RDONLY | OpenFlags.O_TRUNC),
                    () -> ro.create(ROOT, ROOT_ID, n("x"), 0644, OpenFlags.O_RDWR, 0),
                    () -> ro.mkdir(ROOT, ROOT_ID, n("x"), 0755, 0),
                    () -> ro.mknod(ROOT, ROOT_ID, n("x"), 0010644, 0, 0),
                    () -> ro.symlink(ROOT, ROOT_ID, n("x"), "y".getBytes()),
                    () -> ro.link(ROOT, f, ROOT_ID, n("x")),
                    () -> ro.unlink(ROOT, ROOT_ID, n("f")),
                    () -> ro.rmdir(ROOT, ROOT_ID, n("f")),
                    () -> ro.rename(ROOT, ROOT_ID, n("f"), ROOT_ID, n("g"), 0),
                    () -> ro.setattr(ROOT, f, SetAttr.size(0)),
                    () -> ro.write(ROOT, f, h.fh(), 0, Buffers.Source.of("x"), false),
                    () -> ro.fallocate(ROOT, f, h.fh(), 0, 0, 10),
                    () -> ro.setxattr(ROOT, f, "user.x", new byte[1], 0),
                    () -> ro.removexattr(ROOT, f, "user.x"),
                    () -> ro.tmpfile(ROOT, ROOT_ID, 0600, OpenFlags.O_RDWR, 0),
                    () -> ro.copyFileRange(ROOT, f, h.fh(), 0, f, h.fh(), 10, 1, 0));
            for (Executable m : mutations) {
                assertEquals(Errno.EROFS, errno(m));
            }
            assertEquals("data", Files.readString(src.resolve("f")));
            try (var s = Files.list(src)) {
                assertEquals(1, s.count());
            }
        } finally {
            ro.close();
        }
    }

    @Test
    void closeReleasesEveryFd() throws Exception {
        fs.close();
        long before = openFds();
        PosixBackend b = PosixBackend.open(PosixOptions.of(src));
        CreateResult c = b.create(USER, ROOT_ID, n("f"), 0644, OpenFlags.O_RDWR, 0);
        b.setlk(ROOT, c.entry().nodeId(), c.open().fh(), new Lock(Lock.F_WRLCK, 0, 1, 9, 1), false, false);
        b.opendir(ROOT, ROOT_ID, 0);
        b.mkdir(ROOT, ROOT_ID, n("d"), 0755, 0);
        assertTrue(openFds() > before + 4);
        b.close();
        assertEquals(before, openFds());
        fs = PosixBackend.open(PosixOptions.of(src));
    }

    @Test
    void missingSourceFailsWithOneClearLine() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PosixBackend.open(PosixOptions.of(tmp.resolve("nope"))));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        Path file = Files.createFile(tmp.resolve("file"));
        e = assertThrows(IllegalArgumentException.class, () -> PosixBackend.open(PosixOptions.of(file)));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
    }
}
