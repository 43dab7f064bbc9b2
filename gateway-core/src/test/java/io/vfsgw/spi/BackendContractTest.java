package io.vfsgw.spi;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The behaviour every POSIX-like {@link StorageBackend} shares, run against each backend by a
 * subclass that only says how to build one: same operation sequence, same results, same errnos.
 *
 * <p>Each test works inside a fresh directory under the root ({@link #dir}), so a backend whose
 * root is special (S3 bucket root, a host directory) still gets clean ground. Backend-specific
 * things (capacity, sparse accounting, locks, caching) belong in the backend's own tests. A
 * backend that cannot do something (hard links on S3) says so in {@link #supports}; the affected
 * tests are then aborted with a printed reason, never silently skipped.
 */
public abstract class BackendContractTest {
    /** Optional abilities; {@link #supports} answers which a backend has. */
    protected enum Feature {
        HARD_LINKS, SYMLINKS, SPECIAL_FILES, XATTRS, TMPFILE, RENAME_EXCHANGE,
        /** Unlinked or removed nodes stay usable through lookup references and handles. */
        UNLINKED_OPEN,
        /** New nodes are owned by the context's uid/gid; chown works; setgid directories. */
        OWNERSHIP,
        /** A directory's nlink is 2 + its subdirectories (btrfs and object stores differ). */
        DIR_LINK_COUNTS,
        /** Creating, removing and renaming names updates the parent directory's mtime. */
        PARENT_TIMES
    }

    protected static final long OLD_NS = 1_000_000_000L * 1_000_000_000L; // 2001-09-09, surely in the past
    protected static final RequestContext CTX = RequestContext.ROOT;

    protected StorageBackend fs;
    /** The per-test working directory. */
    protected long dir;

    /** A new, empty backend. Called before each test; closed after it. */
    protected abstract StorageBackend newBackend() throws Exception;

    /** Quirk hook: which optional features this backend has (all by default). */
    protected boolean supports(Feature feature) {
        return true;
    }

    /** Quirk hook: the timestamp resolution the backend stores, in ns (1 = exact). */
    protected long timeGranularityNs() {
        return 1;
    }

    @BeforeEach
    void setUpBackend() throws Exception {
        fs = newBackend();
        dir = fs.mkdir(CTX, StorageBackend.ROOT_ID, name("contract"), 0755, 022).nodeId();
    }

    @AfterEach
    void closeBackend() throws Exception {
        if (fs != null) {
            fs.close();
        }
    }

    // ------------------------------------------------------------ lookup / create

    @Test
    void lookupOfMissingNameIsEnoent() {
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("nope")));
    }

    @Test
    void createThenLookupFindsTheSameRegularFile() throws Exception {
        Entry e = mkfile(dir, "f");
        Entry l = fs.lookup(CTX, dir, name("f"));
        assertEquals(e.nodeId(), l.nodeId());
        Attr a = l.attr();
        assertTrue(a.isRegular());
        assertEquals(0644, a.mode() & 07777);
        assertEquals(1, a.nlink());
        assertEquals(0, a.size());
        assertEquals(a.ino(), fs.getattr(CTX, e.nodeId(), -1).ino());
    }

    @Test
    void createOfExistingNameWithExclIsEexist() throws Exception {
        mkfile(dir, "f");
        assertErrno(Errno.EEXIST, () -> fs.create(CTX, dir, name("f"), 0644,
                OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL, 022));
        assertErrno(Errno.EEXIST, () -> fs.mkdir(CTX, dir, name("f"), 0755, 022));
    }

    @Test
    void lookupDotAndDotDot() throws Exception {
        long sub = fs.mkdir(CTX, dir, name("sub"), 0755, 022).nodeId();
        assertEquals(sub, fs.lookup(CTX, sub, name(".")).nodeId());
        assertEquals(dir, fs.lookup(CTX, sub, name("..")).nodeId());
    }

    @Test
    void lookupAndCreateUnderAFileAreEnotdir() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        assertErrno(Errno.ENOTDIR, () -> fs.lookup(CTX, f, name("x")));
        assertErrno(Errno.ENOTDIR, () -> fs.mkdir(CTX, f, name("x"), 0755, 022));
    }

    @Test
    void badNamesAreRejectedByFileName() {
        byte[] longName = new byte[FileName.MAX_LENGTH + 1];
        Arrays.fill(longName, (byte) 'a');
        assertErrno(Errno.ENAMETOOLONG, () -> FileName.of(longName));
        assertErrno(Errno.EINVAL, () -> FileName.of("a/b"));
        assertErrno(Errno.EINVAL, () -> FileName.of(""));
        byte[] max = Arrays.copyOf(longName, FileName.MAX_LENGTH);
        assertEquals(FileName.MAX_LENGTH, FileName.literal(new String(max, StandardCharsets.UTF_8)).length());
    }

    @Test
    void nameOfMaximalLengthWorks() throws Exception {
        String n = "x".repeat(FileName.MAX_LENGTH);
        long f = mkfile(dir, n).nodeId();
        assertEquals(f, fs.lookup(CTX, dir, name(n)).nodeId());
    }

    // ------------------------------------------------------------ directories

    @Test
    void mkdirCountsLinks() throws Exception {
        int before = fs.getattr(CTX, dir, -1).nlink();
        Entry a = fs.mkdir(CTX, dir, name("a"), 0750, 022);
        assertTrue(a.attr().isDirectory());
        assertEquals(0750, a.attr().mode() & 07777);
        assertDirLinks(2, a.nodeId());
        assertDirLinks(before + 1, dir);
        fs.mkdir(CTX, a.nodeId(), name("b"), 0755, 022);
        mkfile(a.nodeId(), "file");
        assertDirLinks(3, a.nodeId()); // files do not count, subdirectories do
    }

    @Test
    void unlinkErrors() throws Exception {
        fs.mkdir(CTX, dir, name("d"), 0755, 022);
        assertErrno(Errno.ENOENT, () -> fs.unlink(CTX, dir, name("missing")));
        assertErrno(Errno.EISDIR, () -> fs.unlink(CTX, dir, name("d")));
    }

    @Test
    void unlinkRemovesTheName() throws Exception {
        mkfile(dir, "f");
        fs.unlink(CTX, dir, name("f"));
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("f")));
        assertTrue(names(dir).isEmpty());
    }

    @Test
    void rmdirErrors() throws Exception {
        mkfile(dir, "f");
        long d = fs.mkdir(CTX, dir, name("d"), 0755, 022).nodeId();
        mkfile(d, "inside");
        assertErrno(Errno.ENOENT, () -> fs.rmdir(CTX, dir, name("missing")));
        assertErrno(Errno.ENOTDIR, () -> fs.rmdir(CTX, dir, name("f")));
        assertErrno(Errno.ENOTEMPTY, () -> fs.rmdir(CTX, dir, name("d")));
    }

    @Test
    void rmdirRemovesAndParentLosesALink() throws Exception {
        int before = fs.getattr(CTX, dir, -1).nlink();
        fs.mkdir(CTX, dir, name("d"), 0755, 022);
        fs.rmdir(CTX, dir, name("d"));
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("d")));
        assertDirLinks(before, dir);
    }

    @Test
    void createInARemovedDirectoryIsEnoent() throws Exception {
        require(Feature.UNLINKED_OPEN);
        long d = fs.mkdir(CTX, dir, name("d"), 0755, 022).nodeId();
        fs.rmdir(CTX, dir, name("d"));
        assertErrno(Errno.ENOENT, () -> fs.create(CTX, d, name("f"), 0644, OpenFlags.O_RDWR, 022));
        assertErrno(Errno.ENOENT, () -> fs.mkdir(CTX, d, name("s"), 0755, 022));
    }

    @Test
    void readdirListsDotsFirstThenEveryEntryWithItsType() throws Exception {
        long f = mkfile(dir, "file").nodeId();
        long d = fs.mkdir(CTX, dir, name("sub"), 0755, 022).nodeId();
        List<DirEntry> all = readdirAll(dir);
        assertEquals(".", all.get(0).name().toString());
        assertEquals("..", all.get(1).name().toString());
        assertEquals(fs.getattr(CTX, dir, -1).ino(), all.get(0).ino());
        assertEquals(fs.getattr(CTX, StorageBackend.ROOT_ID, -1).ino(), all.get(1).ino());
        assertEquals(4, all.size());
        for (DirEntry e : all.subList(2, 4)) {
            if (e.name().toString().equals("file")) {
                assertEquals(FileType.REGULAR, e.type());
                assertEquals(fs.getattr(CTX, f, -1).ino(), e.ino());
            } else {
                assertEquals("sub", e.name().toString());
                assertEquals(FileType.DIRECTORY, e.type());
                assertEquals(fs.getattr(CTX, d, -1).ino(), e.ino());
            }
        }
        Set<Long> cookies = new HashSet<>();
        for (DirEntry e : all) {
            assertTrue(cookies.add(e.nextCookie()), "cookies are distinct");
        }
    }

    @Test
    void readdirCookiesSurviveRemovalsAndAdditionsBetweenCalls() throws Exception {
        int count = 60;
        for (int i = 0; i < count; i++) {
            mkfile(dir, "f" + i);
        }
        OpenResult h = fs.opendir(CTX, dir, 0);
        Set<String> seen = new HashSet<>();
        Set<String> removed = new HashSet<>();
        long cookie = 0;
        int round = 0;
        while (true) {
            List<DirEntry> batch = new ArrayList<>();
            fs.readdir(CTX, dir, h.fh(), cookie, e -> batch.size() < 7 && batch.add(e));
            if (batch.isEmpty()) {
                break;
            }
            for (DirEntry e : batch) {
                assertTrue(seen.add(e.name().toString()), "seen twice: " + e.name());
                assertFalse(removed.contains(e.name().toString()), "listed after removal: " + e.name());
            }
            cookie = batch.get(batch.size() - 1).nextCookie();
            // Between the first calls: remove the entry the cookie names, one not yet listed, and
            // add a new one (which may or may not be listed later; POSIX allows both).
            if (round < 4) {
                for (String victim : new String[] {batch.get(batch.size() - 1).name().toString(), "f" + (count - 1 - round)}) {
                    if (victim.startsWith("f") && !removed.contains(victim)) {
                        fs.unlink(CTX, dir, name(victim));
                        removed.add(victim);
                    }
                }
                mkfile(dir, "new" + round);
            }
            round++;
            assertTrue(round < 100, "readdir does not terminate");
        }
        fs.releasedir(CTX, dir, h.fh());
        for (int i = 0; i < count; i++) {
            String n = "f" + i;
            if (!removed.contains(n)) {
                assertTrue(seen.contains(n), "entry present throughout but never listed: " + n);
            }
        }
    }

    @Test
    void readdirOfAFileIsEnotdir() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        assertErrno(Errno.ENOTDIR, () -> fs.opendir(CTX, f, 0));
    }

    // ------------------------------------------------------------ data

    @Test
    void writeThenReadRoundTrips() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        long fh = open(f, OpenFlags.O_RDWR);
        byte[] data = pattern(200_000, 7);
        writeAll(f, fh, 0, data);
        assertArrayEquals(data, read(f, fh, 0, data.length));
        assertArrayEquals(Arrays.copyOfRange(data, 1000, 1100), read(f, fh, 1000, 100));
        fs.release(CTX, f, fh, OpenFlags.O_RDWR, 0);
        assertEquals(data.length, fs.getattr(CTX, f, -1).size());
    }

    @Test
    void holesReadAsZerosAndReadsStopAtEof() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        long fh = open(f, OpenFlags.O_RDWR);
        writeAll(f, fh, 0, bytes("abc"));
        long far = 3L << 20;
        writeAll(f, fh, far, bytes("xyz"));
        assertEquals(far + 3, fs.getattr(CTX, f, -1).size());
        assertArrayEquals(new byte[5000], read(f, fh, 100_000, 5000));
        byte[] around = read(f, fh, far - 2, 100);
        assertArrayEquals(new byte[] {0, 0, 'x', 'y', 'z'}, around, "short read at EOF");
        assertEquals(0, read(f, fh, far + 3, 10).length, "nothing at EOF");
        assertEquals(0, read(f, fh, far + 1000, 10).length, "nothing past EOF");
        fs.release(CTX, f, fh, OpenFlags.O_RDWR, 0);
    }

    @Test
    void truncateShrinksAndGrowsWithZeros() throws Exception {
        long f = mkfile(dir, "f", "0123456789abcdefghij").nodeId();
        assertEquals(5, fs.setattr(CTX, f, SetAttr.size(5)).size());
        assertEquals("01234", readString(f));
        fs.setattr(CTX, f, SetAttr.size(12));
        byte[] grown = readBytes(f);
        assertArrayEquals(Arrays.copyOf(bytes("01234"), 12), grown, "growing exposes zeros, not old data");
        fs.setattr(CTX, f, SetAttr.size(0));
        assertEquals(0, readBytes(f).length);
    }

    @Test
    void truncateOfADirectoryIsEisdirAndNegativeIsEinval() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        assertErrno(Errno.EISDIR, () -> fs.setattr(CTX, dir, SetAttr.size(0)));
        assertErrno(Errno.EINVAL, () -> fs.setattr(CTX, f, SetAttr.size(-1)));
    }

    @Test
    void openWithTruncEmptiesTheFile() throws Exception {
        long f = mkfile(dir, "f", "content").nodeId();
        long fh = open(f, OpenFlags.O_WRONLY | OpenFlags.O_TRUNC);
        fs.release(CTX, f, fh, OpenFlags.O_WRONLY, 0);
        assertEquals(0, fs.getattr(CTX, f, -1).size());
    }

    @Test
    void openOfADirectoryForWritingIsEisdir() {
        assertErrno(Errno.EISDIR, () -> fs.open(CTX, dir, OpenFlags.O_RDWR));
    }

    @Test
    void writeThroughAReadOnlyHandleIsEbadf() throws Exception {
        long f = mkfile(dir, "f", "abc").nodeId();
        long fh = open(f, OpenFlags.O_RDONLY);
        assertErrno(Errno.EBADF, () -> fs.write(CTX, f, fh, 0, BufferWriteSource.of("x"), false));
        fs.release(CTX, f, fh, OpenFlags.O_RDONLY, 0);
        assertEquals("abc", readString(f));
    }

    @Test
    void readOfADirectoryHandleFails() throws Exception {
        long fh = fs.opendir(CTX, dir, 0).fh();
        FsException e = assertThrows(FsException.class, () -> fs.read(CTX, dir, fh, 0, new BufferReadSink(10)));
        assertTrue(e.errno() == Errno.EISDIR || e.errno() == Errno.EBADF, "got " + e.errno());
        fs.releasedir(CTX, dir, fh);
    }

    // ------------------------------------------------------------ attributes and times

    @Test
    void chmodKeepsTheTypeAndChangesCtime() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        long ctime = fs.getattr(CTX, f, -1).ctimeNs();
        Attr a = fs.setattr(CTX, f, SetAttr.mode(0600));
        assertTrue(a.isRegular());
        assertEquals(0600, a.mode() & 07777);
        assertTrue(a.ctimeNs() >= ctime);
        assertEquals(0600, fs.getattr(CTX, f, -1).mode() & 07777);
    }

    @Test
    void explicitTimesAreStored() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        long atime = OLD_NS + 123_456_789L;
        long mtime = OLD_NS + 987_654_321L;
        fs.setattr(CTX, f, SetAttr.times(atime, false, mtime, false));
        Attr a = fs.getattr(CTX, f, -1);
        long g = timeGranularityNs();
        assertEquals(atime / g * g, a.atimeNs() / g * g);
        assertEquals(mtime / g * g, a.mtimeNs() / g * g);
        assertTrue(a.ctimeNs() > mtime, "ctime is now, not the given time");
    }

    @Test
    void utimeNowSetsCurrentTimes() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        ageTimes(f);
        Attr a = fs.setattr(CTX, f, SetAttr.times(null, true, null, true));
        assertTrue(a.atimeNs() > OLD_NS + 1_000_000_000L);
        assertTrue(a.mtimeNs() > OLD_NS + 1_000_000_000L);
    }

    @Test
    void writeAndTruncateUpdateMtime() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        ageTimes(f);
        long fh = open(f, OpenFlags.O_RDWR);
        writeAll(f, fh, 0, bytes("data"));
        fs.release(CTX, f, fh, OpenFlags.O_RDWR, 0);
        Attr a = fs.getattr(CTX, f, -1);
        assertTrue(a.mtimeNs() > OLD_NS, "write sets mtime");
        assertTrue(a.ctimeNs() >= a.mtimeNs() - timeGranularityNs(), "write sets ctime with mtime");
        ageTimes(f);
        assertTrue(fs.setattr(CTX, f, SetAttr.size(1)).mtimeNs() > OLD_NS, "truncate sets mtime");
    }

    @Test
    void createAndUnlinkUpdateTheParentsMtime() throws Exception {
        require(Feature.PARENT_TIMES);
        ageTimes(dir);
        mkfile(dir, "f");
        assertTrue(fs.getattr(CTX, dir, -1).mtimeNs() > OLD_NS, "create sets the parent's mtime");
        ageTimes(dir);
        fs.unlink(CTX, dir, name("f"));
        assertTrue(fs.getattr(CTX, dir, -1).mtimeNs() > OLD_NS, "unlink sets the parent's mtime");
        ageTimes(dir);
        fs.mkdir(CTX, dir, name("d"), 0755, 022);
        assertTrue(fs.getattr(CTX, dir, -1).mtimeNs() > OLD_NS, "mkdir sets the parent's mtime");
    }

    @Test
    void renameUpdatesBothParentsMtime() throws Exception {
        require(Feature.PARENT_TIMES);
        long a = fs.mkdir(CTX, dir, name("a"), 0755, 022).nodeId();
        long b = fs.mkdir(CTX, dir, name("b"), 0755, 022).nodeId();
        mkfile(a, "f");
        ageTimes(a);
        ageTimes(b);
        fs.rename(CTX, a, name("f"), b, name("g"), 0);
        assertTrue(fs.getattr(CTX, a, -1).mtimeNs() > OLD_NS);
        assertTrue(fs.getattr(CTX, b, -1).mtimeNs() > OLD_NS);
    }

    @Test
    void newNodesAreOwnedByTheCaller() throws Exception {
        require(Feature.OWNERSHIP);
        fs.setattr(CTX, dir, SetAttr.mode(0777));
        RequestContext user = new RequestContext(1000, 1001, 42);
        Attr f = fs.create(user, dir, name("f"), 0644, OpenFlags.O_RDWR, 022).entry().attr();
        assertEquals(1000, f.uid());
        assertEquals(1001, f.gid());
        Attr d = fs.mkdir(user, dir, name("d"), 0755, 022).attr();
        assertEquals(1000, d.uid());
        assertEquals(1001, d.gid());
    }

    @Test
    void setgidDirectoryGivesItsGroupAndBitToNewNodes() throws Exception {
        require(Feature.OWNERSHIP);
        long sg = fs.mkdir(CTX, dir, name("sg"), 0777, 0).nodeId();
        fs.setattr(CTX, sg, SetAttr.owner(null, 4242));
        fs.setattr(CTX, sg, SetAttr.mode(02777));
        RequestContext user = new RequestContext(1000, 1001, 42);
        Attr f = fs.mknod(user, sg, name("f"), FileType.REGULAR.modeBits() | 0644, 0, 022).attr();
        assertEquals(4242, f.gid());
        Attr d = fs.mkdir(user, sg, name("d"), 0755, 022).attr();
        assertEquals(4242, d.gid());
        assertEquals(02000, d.mode() & 02000, "subdirectories inherit setgid");
    }

    @Test
    void chownByRootChangesOwner() throws Exception {
        require(Feature.OWNERSHIP);
        long f = mkfile(dir, "f").nodeId();
        Attr a = fs.setattr(CTX, f, SetAttr.owner(1234, 5678));
        assertEquals(1234, a.uid());
        assertEquals(5678, a.gid());
    }

    // ------------------------------------------------------------ rename

    @Test
    void renameMovesTheNodeKeepingItsIdentity() throws Exception {
        long f = mkfile(dir, "f", "payload").nodeId();
        long sub = fs.mkdir(CTX, dir, name("sub"), 0755, 022).nodeId();
        fs.rename(CTX, dir, name("f"), sub, name("g"), 0);
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("f")));
        Entry g = fs.lookup(CTX, sub, name("g"));
        assertEquals(f, g.nodeId());
        assertEquals("payload", readString(g.nodeId()));
    }

    @Test
    void renameOfAMissingSourceIsEnoent() {
        assertErrno(Errno.ENOENT, () -> fs.rename(CTX, dir, name("x"), dir, name("y"), 0));
    }

    @Test
    void renameReplacesAnExistingFile() throws Exception {
        mkfile(dir, "a", "A");
        mkfile(dir, "b", "B");
        fs.rename(CTX, dir, name("a"), dir, name("b"), 0);
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("a")));
        assertEquals("A", readString(fs.lookup(CTX, dir, name("b")).nodeId()));
        assertEquals(List.of("b"), names(dir));
    }

    @Test
    void renameOverAFileKeepsTheReplacedNodeUsableWhileReferenced() throws Exception {
        require(Feature.UNLINKED_OPEN);
        mkfile(dir, "a", "A");
        long b = mkfile(dir, "b", "B").nodeId();
        long fh = open(b, OpenFlags.O_RDONLY);
        fs.rename(CTX, dir, name("a"), dir, name("b"), 0);
        assertEquals(0, fs.getattr(CTX, b, fh).nlink());
        assertArrayEquals(bytes("B"), read(b, fh, 0, 10));
        fs.release(CTX, b, fh, OpenFlags.O_RDONLY, 0);
    }

    @Test
    void renameNoreplaceRefusesAnExistingTarget() throws Exception {
        mkfile(dir, "a", "A");
        mkfile(dir, "b", "B");
        assertErrno(Errno.EEXIST, () -> fs.rename(CTX, dir, name("a"), dir, name("b"), StorageBackend.RENAME_NOREPLACE));
        assertEquals("A", readString(fs.lookup(CTX, dir, name("a")).nodeId()));
        assertEquals("B", readString(fs.lookup(CTX, dir, name("b")).nodeId()));
        fs.rename(CTX, dir, name("a"), dir, name("c"), StorageBackend.RENAME_NOREPLACE);
        assertEquals("A", readString(fs.lookup(CTX, dir, name("c")).nodeId()));
    }

    @Test
    void renameExchangeSwapsTwoNames() throws Exception {
        require(Feature.RENAME_EXCHANGE);
        long a = mkfile(dir, "a", "A").nodeId();
        long sub = fs.mkdir(CTX, dir, name("sub"), 0755, 022).nodeId();
        int dirLinks = fs.getattr(CTX, dir, -1).nlink();
        fs.rename(CTX, dir, name("a"), dir, name("sub"), StorageBackend.RENAME_EXCHANGE);
        assertEquals(a, fs.lookup(CTX, dir, name("sub")).nodeId());
        assertEquals(sub, fs.lookup(CTX, dir, name("a")).nodeId());
        assertDirLinks(dirLinks, dir);
        assertErrno(Errno.ENOENT, () -> fs.rename(CTX, dir, name("a"), dir, name("none"), StorageBackend.RENAME_EXCHANGE));
    }

    @Test
    void renameExchangeAcrossDirectoriesMovesDotDot() throws Exception {
        require(Feature.RENAME_EXCHANGE);
        long x = fs.mkdir(CTX, dir, name("x"), 0755, 022).nodeId();
        long y = fs.mkdir(CTX, dir, name("y"), 0755, 022).nodeId();
        long dx = fs.mkdir(CTX, x, name("d"), 0755, 022).nodeId();
        long fy = mkfile(y, "f").nodeId();
        fs.rename(CTX, x, name("d"), y, name("f"), StorageBackend.RENAME_EXCHANGE);
        assertEquals(fy, fs.lookup(CTX, x, name("d")).nodeId());
        assertEquals(dx, fs.lookup(CTX, y, name("f")).nodeId());
        assertEquals(y, fs.lookup(CTX, dx, name("..")).nodeId());
        assertDirLinks(2, x);
        assertDirLinks(3, y);
    }

    @Test
    void renameBadFlagsAreEinval() throws Exception {
        mkfile(dir, "a");
        mkfile(dir, "b");
        assertErrno(Errno.EINVAL, () -> fs.rename(CTX, dir, name("a"), dir, name("b"),
                StorageBackend.RENAME_NOREPLACE | StorageBackend.RENAME_EXCHANGE));
    }

    @Test
    void renameTypeMismatchesAndNonEmptyTarget() throws Exception {
        mkfile(dir, "f");
        fs.mkdir(CTX, dir, name("d"), 0755, 022);
        long full = fs.mkdir(CTX, dir, name("full"), 0755, 022).nodeId();
        mkfile(full, "x");
        assertErrno(Errno.ENOTDIR, () -> fs.rename(CTX, dir, name("d"), dir, name("f"), 0));
        assertErrno(Errno.EISDIR, () -> fs.rename(CTX, dir, name("f"), dir, name("d"), 0));
        assertErrno(Errno.ENOTEMPTY, () -> fs.rename(CTX, dir, name("d"), dir, name("full"), 0));
    }

    @Test
    void renameDirectoryOverAnEmptyDirectory() throws Exception {
        long d = fs.mkdir(CTX, dir, name("d"), 0755, 022).nodeId();
        fs.mkdir(CTX, dir, name("e"), 0755, 022);
        int links = fs.getattr(CTX, dir, -1).nlink();
        fs.rename(CTX, dir, name("d"), dir, name("e"), 0);
        assertEquals(d, fs.lookup(CTX, dir, name("e")).nodeId());
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("d")));
        assertDirLinks(links - 1, dir);
    }

    @Test
    void renameDirectoryIntoItsOwnSubtreeIsEinval() throws Exception {
        long a = fs.mkdir(CTX, dir, name("a"), 0755, 022).nodeId();
        long b = fs.mkdir(CTX, a, name("b"), 0755, 022).nodeId();
        assertErrno(Errno.EINVAL, () -> fs.rename(CTX, dir, name("a"), b, name("a"), 0));
        assertErrno(Errno.EINVAL, () -> fs.rename(CTX, dir, name("a"), a, name("self"), 0));
    }

    @Test
    void renameDirectoryAcrossParentsMovesDotDotAndLinkCounts() throws Exception {
        long a = fs.mkdir(CTX, dir, name("a"), 0755, 022).nodeId();
        long b = fs.mkdir(CTX, dir, name("b"), 0755, 022).nodeId();
        long c = fs.mkdir(CTX, a, name("c"), 0755, 022).nodeId();
        fs.rename(CTX, a, name("c"), b, name("c"), 0);
        assertDirLinks(2, a);
        assertDirLinks(3, b);
        assertEquals(b, fs.lookup(CTX, c, name("..")).nodeId());
        assertDirLinks(2, c);
    }

    @Test
    void renameBetweenTwoNamesOfOneInodeDoesNothing() throws Exception {
        require(Feature.HARD_LINKS);
        long f = mkfile(dir, "f").nodeId();
        fs.link(CTX, f, dir, name("g"));
        fs.rename(CTX, dir, name("f"), dir, name("g"), 0);
        assertEquals(f, fs.lookup(CTX, dir, name("f")).nodeId());
        assertEquals(f, fs.lookup(CTX, dir, name("g")).nodeId());
        assertEquals(2, fs.getattr(CTX, f, -1).nlink());
    }

    // ------------------------------------------------------------ links, symlinks, special files

    @Test
    void hardLinksShareTheNodeAndCountLinks() throws Exception {
        require(Feature.HARD_LINKS);
        long f = mkfile(dir, "f", "shared").nodeId();
        Entry g = fs.link(CTX, f, dir, name("g"));
        assertEquals(f, g.nodeId());
        assertEquals(2, g.attr().nlink());
        fs.unlink(CTX, dir, name("f"));
        assertEquals(1, fs.getattr(CTX, f, -1).nlink());
        assertEquals("shared", readString(fs.lookup(CTX, dir, name("g")).nodeId()));
        assertErrno(Errno.EEXIST, () -> fs.link(CTX, f, dir, name("g")));
        assertErrno(Errno.EPERM, () -> fs.link(CTX, dir, dir, name("dirlink")));
    }

    @Test
    void symlinkStoresTargetBytes() throws Exception {
        require(Feature.SYMLINKS);
        byte[] target = bytes("../some/where/ü");
        Entry s = fs.symlink(CTX, dir, name("s"), target);
        assertTrue(s.attr().isSymlink());
        assertEquals(target.length, s.attr().size());
        assertArrayEquals(target, fs.readlink(CTX, s.nodeId()));
        assertTrue(fs.lookup(CTX, dir, name("s")).attr().isSymlink());
        assertErrno(Errno.EEXIST, () -> fs.symlink(CTX, dir, name("s"), bytes("x")));
        long f = mkfile(dir, "f").nodeId();
        assertErrno(Errno.EINVAL, () -> fs.readlink(CTX, f));
        assertErrno(Errno.ENAMETOOLONG, () -> fs.symlink(CTX, dir, name("long"), new byte[5000]));
    }

    @Test
    void mknodMakesFifosAndRegularFiles() throws Exception {
        require(Feature.SPECIAL_FILES);
        Entry p = fs.mknod(CTX, dir, name("pipe"), FileType.FIFO.modeBits() | 0640, 0, 022);
        assertEquals(FileType.FIFO, p.attr().type());
        assertEquals(0640, p.attr().mode() & 07777);
        assertEquals(FileType.FIFO, fs.lookup(CTX, dir, name("pipe")).attr().type());
        Entry r = fs.mknod(CTX, dir, name("reg"), FileType.REGULAR.modeBits() | 0600, 0, 022);
        assertTrue(r.attr().isRegular());
        assertErrno(Errno.EEXIST, () -> fs.mknod(CTX, dir, name("pipe"), FileType.FIFO.modeBits() | 0640, 0, 022));
    }

    // ------------------------------------------------------------ lifetime

    @Test
    void unlinkedButOpenFileStaysReadableAndWritable() throws Exception {
        require(Feature.UNLINKED_OPEN);
        long f = mkfile(dir, "f", "still here").nodeId();
        long fh = open(f, OpenFlags.O_RDWR);
        fs.unlink(CTX, dir, name("f"));
        assertErrno(Errno.ENOENT, () -> fs.lookup(CTX, dir, name("f")));
        assertArrayEquals(bytes("still here"), read(f, fh, 0, 100));
        writeAll(f, fh, 0, bytes("STILL"));
        assertArrayEquals(bytes("STILL here"), read(f, fh, 0, 100));
        assertEquals(0, fs.getattr(CTX, f, fh).nlink());
        fs.release(CTX, f, fh, OpenFlags.O_RDWR, 0);
        fs.forget(f, 1);
    }

    @Test
    void tmpfileCanBeNamedByLink() throws Exception {
        require(Feature.TMPFILE);
        CreateResult t = fs.tmpfile(CTX, dir, 0600, OpenFlags.O_RDWR, 022);
        long f = t.entry().nodeId();
        assertEquals(0, t.entry().attr().nlink());
        writeAll(f, t.open().fh(), 0, bytes("tmp"));
        assertTrue(names(dir).isEmpty());
        fs.link(CTX, f, dir, name("named"));
        fs.release(CTX, f, t.open().fh(), OpenFlags.O_RDWR, 0);
        assertEquals(1, fs.getattr(CTX, f, -1).nlink());
        assertEquals("tmp", readString(fs.lookup(CTX, dir, name("named")).nodeId()));
    }

    // ------------------------------------------------------------ xattrs and statfs

    @Test
    void xattrsSetGetListRemove() throws Exception {
        require(Feature.XATTRS);
        long f = mkfile(dir, "f").nodeId();
        assertErrno(Errno.ENODATA, () -> fs.getxattr(CTX, f, "user.k"));
        fs.setxattr(CTX, f, "user.k", bytes("v1"), 0);
        assertArrayEquals(bytes("v1"), fs.getxattr(CTX, f, "user.k"));
        assertErrno(Errno.EEXIST, () -> fs.setxattr(CTX, f, "user.k", bytes("v2"), StorageBackend.XATTR_CREATE));
        assertErrno(Errno.ENODATA, () -> fs.setxattr(CTX, f, "user.other", bytes("v"), StorageBackend.XATTR_REPLACE));
        fs.setxattr(CTX, f, "user.k", bytes("v2"), StorageBackend.XATTR_REPLACE);
        assertArrayEquals(bytes("v2"), fs.getxattr(CTX, f, "user.k"));
        fs.setxattr(CTX, f, "user.empty", new byte[0], 0);
        assertEquals(0, fs.getxattr(CTX, f, "user.empty").length);
        List<String> listed = fs.listxattr(CTX, f);
        assertTrue(listed.containsAll(List.of("user.k", "user.empty")), "listed " + listed);
        fs.removexattr(CTX, f, "user.k");
        assertErrno(Errno.ENODATA, () -> fs.getxattr(CTX, f, "user.k"));
        assertErrno(Errno.ENODATA, () -> fs.removexattr(CTX, f, "user.k"));
        assertFalse(fs.listxattr(CTX, f).contains("user.k"));
    }

    @Test
    void xattrsOnDirectories() throws Exception {
        require(Feature.XATTRS);
        fs.setxattr(CTX, dir, "user.d", bytes("dirval"), 0);
        assertArrayEquals(bytes("dirval"), fs.getxattr(CTX, dir, "user.d"));
    }

    @Test
    void statfsIsSane() throws Exception {
        StatFs s = fs.statfs(CTX, StorageBackend.ROOT_ID);
        assertTrue(s.blockSize() > 0);
        assertTrue(s.blocks() > 0);
        assertTrue(s.blocksFree() <= s.blocks());
        assertTrue(s.blocksAvailable() <= s.blocksFree());
        assertTrue(s.filesFree() <= s.files());
        assertEquals(FileName.MAX_LENGTH, s.nameMax());
    }

    @Test
    void removedNodeIdsAreNotReusedWhileReferenced() throws Exception {
        long f = mkfile(dir, "f").nodeId();
        fs.unlink(CTX, dir, name("f"));
        long g = mkfile(dir, "g").nodeId();
        assertNotEquals(f, g);
    }

    @Test
    void overwriteInTheMiddleKeepsTheRest() throws Exception {
        long f = mkfile(dir, "f", "0123456789").nodeId();
        long fh = open(f, OpenFlags.O_WRONLY);
        writeAll(f, fh, 3, bytes("abc"));
        fs.release(CTX, f, fh, OpenFlags.O_WRONLY, 0);
        assertEquals("012abc6789", readString(f));
        assertEquals(10, fs.getattr(CTX, f, -1).size());
    }

    @Test
    void readThroughAWriteOnlyHandleIsEbadf() throws Exception {
        long f = mkfile(dir, "f", "abc").nodeId();
        long fh = open(f, OpenFlags.O_WRONLY);
        assertErrno(Errno.EBADF, () -> fs.read(CTX, f, fh, 0, new BufferReadSink(10)));
        fs.release(CTX, f, fh, OpenFlags.O_WRONLY, 0);
    }

    @Test
    void renameOntoItselfDoesNothing() throws Exception {
        long f = mkfile(dir, "f", "same").nodeId();
        fs.rename(CTX, dir, name("f"), dir, name("f"), 0);
        assertEquals(f, fs.lookup(CTX, dir, name("f")).nodeId());
        assertEquals("same", readString(f));
    }

    @Test
    void linkToAnUnlinkedFileIsEnoent() throws Exception {
        require(Feature.HARD_LINKS);
        require(Feature.UNLINKED_OPEN);
        long f = mkfile(dir, "f").nodeId();
        long fh = open(f, OpenFlags.O_RDWR);
        fs.unlink(CTX, dir, name("f"));
        assertErrno(Errno.ENOENT, () -> fs.link(CTX, f, dir, name("back")));
        fs.release(CTX, f, fh, OpenFlags.O_RDWR, 0);
    }

    @Test
    void directoryBecomesRemovableOnceEmptied() throws Exception {
        long d = fs.mkdir(CTX, dir, name("d"), 0755, 022).nodeId();
        mkfile(d, "x");
        fs.mkdir(CTX, d, name("sub"), 0755, 022);
        assertErrno(Errno.ENOTEMPTY, () -> fs.rmdir(CTX, dir, name("d")));
        fs.unlink(CTX, d, name("x"));
        assertErrno(Errno.ENOTEMPTY, () -> fs.rmdir(CTX, dir, name("d")));
        fs.rmdir(CTX, d, name("sub"));
        fs.rmdir(CTX, dir, name("d"));
        assertTrue(names(dir).isEmpty());
    }

    // ------------------------------------------------------------ helpers

    protected static FileName name(String s) {
        return FileName.literal(s);
    }

    protected static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Deterministic non-trivial content. */
    protected static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed + (i >>> 9));
        }
        return b;
    }

    /** Creates an empty 0644 regular file (handle already released); returns it with one reference. */
    protected Entry mkfile(long parent, String n) throws FsException {
        CreateResult r = fs.create(CTX, parent, name(n), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022);
        fs.release(CTX, r.entry().nodeId(), r.open().fh(), OpenFlags.O_RDWR, 0);
        return r.entry();
    }

    /** Creates a regular file holding {@code content}. */
    protected Entry mkfile(long parent, String n, String content) throws FsException {
        CreateResult r = fs.create(CTX, parent, name(n), 0644, OpenFlags.O_RDWR | OpenFlags.O_CREAT, 022);
        writeAll(r.entry().nodeId(), r.open().fh(), 0, bytes(content));
        fs.release(CTX, r.entry().nodeId(), r.open().fh(), OpenFlags.O_RDWR, 0);
        return r.entry();
    }

    protected long open(long node, int flags) throws FsException {
        return fs.open(CTX, node, flags).fh();
    }

    protected void writeAll(long node, long fh, long offset, byte[] data) throws FsException {
        BufferWriteSource src = BufferWriteSource.of(data);
        long at = offset;
        while (src.remaining() > 0) {
            int n = fs.write(CTX, node, fh, at, src, false);
            assertTrue(n > 0, "write made no progress");
            at += n;
        }
    }

    /** Up to {@code length} bytes at {@code offset}, fewer at EOF. */
    protected byte[] read(long node, long fh, long offset, int length) throws FsException {
        BufferReadSink sink = new BufferReadSink(length);
        fs.read(CTX, node, fh, offset, sink);
        return sink.bytes();
    }

    /** The whole content of a file, through a fresh read-only handle. */
    protected byte[] readBytes(long node) throws FsException {
        long size = fs.getattr(CTX, node, -1).size();
        long fh = open(node, OpenFlags.O_RDONLY);
        try {
            return read(node, fh, 0, (int) size);
        } finally {
            fs.release(CTX, node, fh, OpenFlags.O_RDONLY, 0);
        }
    }

    protected String readString(long node) throws FsException {
        return new String(readBytes(node), StandardCharsets.UTF_8);
    }

    /** Sets atime and mtime far into the past, so that a later update is visible. */
    protected void ageTimes(long node) throws FsException {
        fs.setattr(CTX, node, SetAttr.times(OLD_NS, false, OLD_NS, false));
    }

    /** Every entry of a directory, "." and ".." included, read in small batches. */
    protected List<DirEntry> readdirAll(long directory) throws FsException {
        OpenResult h = fs.opendir(CTX, directory, 0);
        List<DirEntry> all = new ArrayList<>();
        long cookie = 0;
        try {
            while (true) {
                List<DirEntry> batch = new ArrayList<>();
                fs.readdir(CTX, directory, h.fh(), cookie, e -> batch.size() < 5 && batch.add(e));
                if (batch.isEmpty()) {
                    return all;
                }
                all.addAll(batch);
                cookie = batch.get(batch.size() - 1).nextCookie();
            }
        } finally {
            fs.releasedir(CTX, directory, h.fh());
        }
    }

    /** The names in a directory, without "." and "..", sorted. */
    protected List<String> names(long directory) throws FsException {
        List<String> out = new ArrayList<>();
        for (DirEntry e : readdirAll(directory)) {
            if (!e.name().isDotOrDotDot()) {
                out.add(e.name().toString());
            }
        }
        out.sort(null);
        return out;
    }

    /** Checks a directory's link count where the backend keeps the classic 2 + subdirectories. */
    protected void assertDirLinks(int expected, long directory) throws FsException {
        if (supports(Feature.DIR_LINK_COUNTS)) {
            assertEquals(expected, fs.getattr(CTX, directory, -1).nlink(), "nlink of directory " + directory);
        }
    }

    protected static Errno assertErrno(Errno expected, Executable op) {
        FsException e = assertThrows(FsException.class, op, "expected " + expected);
        assertEquals(expected, e.errno(), e.getMessage());
        return e.errno();
    }

    /** Aborts the current test, printing why, when the backend lacks a feature. */
    protected void require(Feature feature) {
        if (!supports(feature)) {
            String why = getClass().getSimpleName() + ": skipped, backend has no " + feature;
            System.out.println(why);
            Assumptions.abort(why);
        }
    }
}
