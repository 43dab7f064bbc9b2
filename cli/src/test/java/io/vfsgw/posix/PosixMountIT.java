package io.vfsgw.posix;

import static io.vfsgw.posix.Sh.AS_NOBODY;
import static io.vfsgw.posix.Sh.errno;
import static io.vfsgw.posix.Sh.errnoAs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.guest.GuestScripts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The posix backend mounted on the host through /dev/fuse over a real directory on disk: every
 * operation and its failure errno, each checked on the host side too (owners, modes, xattrs,
 * timestamps, links as the host sees them), host changes seen through the mount after the cache
 * timeout, --readonly and --uid-map. One mount for the class; tests work in their own
 * subdirectories ({@link #pair}: the path through the mount and the same path in the source).
 */
class PosixMountIT {
    private static Path source;
    private static PosixGateway gw;

    /** The same directory seen through the mount and directly on the host. */
    private record Pair(Path mnt, Path host) {
        Pair resolve(String name) {
            return new Pair(mnt.resolve(name), host.resolve(name));
        }
    }

    @BeforeAll
    static void mount() throws IOException {
        source = Sh.diskDir("src");
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxrwxrwx"));
        gw = PosixGateway.mount(source);
    }

    @AfterAll
    static void unmount() throws Exception {
        try {
            if (gw != null) {
                gw.close();
            }
        } finally {
            Sh.deleteTree(source);
        }
    }

    private static Pair pair(String name) throws IOException {
        Path m = Files.createDirectory(gw.dir().resolve(name));
        Files.setPosixFilePermissions(m, PosixFilePermissions.fromString("rwxrwxrwx"));
        return new Pair(m, source.resolve(name));
    }

    private static Object host(Path p, String attr) throws IOException {
        return Files.getAttribute(p, "unix:" + attr, LinkOption.NOFOLLOW_LINKS);
    }

    private static int hostMode(Path p) throws IOException {
        return (Integer) host(p, "mode");
    }

    // ------------------------------------------------------------------ data and names

    @Test
    void filesAndDirectoriesMadeThroughTheMountAreOnTheHost() throws IOException {
        Pair d = pair("basic");
        Files.writeString(d.mnt.resolve("f"), "hello");
        assertEquals("hello", Files.readString(d.host.resolve("f")));
        Files.writeString(d.mnt.resolve("f"), " world", StandardOpenOption.APPEND);
        assertEquals("hello world", Files.readString(d.host.resolve("f")));
        Sh.run("truncate", "-s", "5", d.mnt.resolve("f").toString()).ok();
        assertEquals(5, Files.size(d.host.resolve("f")));
        Files.createDirectories(d.mnt.resolve("a/b/c"));
        assertTrue(Files.isDirectory(d.host.resolve("a/b/c")));
        Files.move(d.mnt.resolve("f"), d.mnt.resolve("a/b/g"));
        assertFalse(Files.exists(d.host.resolve("f")));
        assertEquals("hello", Files.readString(d.host.resolve("a/b/g")));
        Files.createSymbolicLink(d.mnt.resolve("ln"), Path.of("a/b/g"));
        assertEquals(Path.of("a/b/g"), Files.readSymbolicLink(d.host.resolve("ln")));
        assertEquals("hello", Files.readString(d.mnt.resolve("ln"))); // the guest kernel follows it
        assertEquals("ok", errno("os.mkfifo(a[0], 0o640)", d.mnt.resolve("fifo")));
        assertEquals(0010640, hostMode(d.host.resolve("fifo")));
        Files.delete(d.mnt.resolve("a/b/g"));
        assertFalse(Files.exists(d.host.resolve("a/b/g")));
        Files.delete(d.mnt.resolve("a/b/c"));
        assertFalse(Files.exists(d.host.resolve("a/b/c")));
        try (var s = Files.list(d.mnt)) {
            assertEquals(List.of("a", "fifo", "ln"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        // a large file with a hole, byte for byte on the host
        String big = d.mnt.resolve("big").toString();
        Sh.run("dd", "if=/dev/urandom", "of=" + big, "bs=1M", "count=8", "seek=2", "status=none").ok();
        assertEquals(Sh.run("sha256sum", big).ok().out().split(" ")[0],
                Sh.run("sha256sum", d.host.resolve("big").toString()).ok().out().split(" ")[0]);
        assertEquals(10L << 20, Files.size(d.host.resolve("big")));
    }

    @Test
    void fsxThroughTheMountLeavesTheModelsBytesOnTheHost() throws Exception {
        Pair d = pair("fsx");
        for (String mode : new String[] {"buffered", "direct"}) { // direct: O_DIRECT mixed with buffered and mmap
            String out = Sh.run(Duration.ofSeconds(300), List.of(GuestScripts.fsops().toString(), "fsx",
                    d.mnt.resolve(mode + ".dat").toString(), "20000", "6", mode)).ok().out();
            GuestScripts.assertFsxResult(out, Files.readAllBytes(d.host.resolve(mode + ".dat")));
        }
    }

    @Test
    void everyFailureHasTheHostsErrno() throws IOException {
        Pair d = pair("errnos");
        Files.createDirectories(d.mnt.resolve("full/x"));
        Files.writeString(d.mnt.resolve("file"), "x");
        String m = d.mnt.toString();
        assertEquals("EEXIST", errno("os.mkdir(a[0])", m + "/full"));
        assertEquals("EEXIST", errno("os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY))", m + "/file"));
        assertEquals("ENOENT", errno("os.stat(a[0])", m + "/missing"));
        assertEquals("ENOENT", errno("os.open(a[0], os.O_RDONLY)", m + "/missing"));
        assertEquals("ENOTDIR", errno("os.stat(a[0])", m + "/file/x"));
        assertEquals("ENOTDIR", errno("os.mkdir(a[0])", m + "/file/x"));
        assertEquals("ENOTEMPTY", errno("os.rmdir(a[0])", m + "/full"));
        assertEquals("ENOTDIR", errno("os.rmdir(a[0])", m + "/file"));
        assertEquals("EISDIR", errno("os.unlink(a[0])", m + "/full"));
        assertEquals("EISDIR", errno("os.open(a[0], os.O_WRONLY)", m + "/full"));
        assertEquals("EINVAL", errno("os.rename(a[0], a[0] + '/x/inside')", m + "/full"));
        assertEquals("ENOTEMPTY", errno("os.mkdir(a[1]); os.rename(a[1], a[0])", m + "/full", m + "/empty"));
        assertEquals("EISDIR", errno("os.rename(a[0], a[1])", m + "/file", m + "/full"));
        assertEquals("ENOTDIR", errno("os.rename(a[0], a[1])", m + "/empty", m + "/file"));
        assertEquals("EPERM", errno("os.link(a[0], a[1])", m + "/full", m + "/dirlink"));
        assertEquals("EINVAL", errno("os.readlink(a[0])", m + "/file"));
        assertEquals("ENAMETOOLONG", errno("os.mkdir(a[0] + '/' + 'n' * 256)", m));
        assertEquals("ELOOP", errno("os.symlink('loop', a[0]); os.stat(a[0])", m + "/loop"));
        assertEquals("ENODATA", errno("os.getxattr(a[0], 'user.none')", m + "/file"));
        assertEquals("EPERM", errno("os.mknod(a[0], 0o20666, os.makedev(1, 3))", m + "/null"));
        assertFalse(Files.exists(d.host.resolve("null"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("EEXIST", errno("os.link(a[0], a[1])", m + "/file", m + "/full"));
    }

    // ------------------------------------------------------------------ owners and modes

    @Test
    void filesMadeByNobodyAreOwnedByNobodyOnTheHost() throws IOException {
        Pair d = pair("owners");
        String m = d.mnt.toString();
        assertEquals("ok", errnoAs(AS_NOBODY, "os.close(os.open(a[0] + '/f', os.O_CREAT | os.O_WRONLY, 0o640))\n"
                + "os.mkdir(a[0] + '/sub', 0o750)\nos.symlink('f', a[0] + '/ln')\nos.mkfifo(a[0] + '/fifo')\n"
                + "os.link(a[0] + '/f', a[0] + '/hard')", m));
        for (String n : List.of("f", "sub", "ln", "fifo", "hard")) {
            assertEquals(65534, host(d.host.resolve(n), "uid"), n);
            assertEquals(65534, host(d.host.resolve(n), "gid"), n);
        }
        assertEquals(0100640, hostMode(d.host.resolve("f")));
        assertEquals(0040750, hostMode(d.host.resolve("sub")));
        // nobody may not give files away, nor write root's files, nor chmod them
        assertEquals("EPERM", errnoAs(AS_NOBODY, "os.chown(a[0], 0, 0)", m + "/f"));
        Files.writeString(d.mnt.resolve("roots"), "root's");
        assertEquals(0, host(d.host.resolve("roots"), "uid"));
        assertEquals("EACCES", errnoAs(AS_NOBODY, "os.open(a[0], os.O_WRONLY)", m + "/roots"));
        assertEquals("EPERM", errnoAs(AS_NOBODY, "os.chmod(a[0], 0o777)", m + "/roots"));
        // root gives a file away through the mount: the host records it
        assertEquals("ok", errno("os.chown(a[0], 1234, 5678)", m + "/roots"));
        assertEquals(1234, host(d.host.resolve("roots"), "uid"));
        assertEquals(5678, host(d.host.resolve("roots"), "gid"));
    }

    @Test
    void modesSetThroughTheMountAreTheHostsModes() throws IOException {
        Pair d = pair("modes");
        String m = d.mnt.toString();
        assertEquals("ok", errno("os.umask(0o027)\nos.close(os.open(a[0] + '/u', os.O_CREAT | os.O_WRONLY, 0o666))\n"
                + "os.mkdir(a[0] + '/ud', 0o777)", m));
        assertEquals(0100640, hostMode(d.host.resolve("u")));
        assertEquals(0040750, hostMode(d.host.resolve("ud")));
        for (int mode : new int[] {0751, 04755, 02711, 01777, 0}) {
            assertEquals("ok", errno("os.chmod(a[0], int(a[1], 8))", m + "/u", Integer.toOctalString(mode)));
            assertEquals(0100000 | mode, hostMode(d.host.resolve("u")), Integer.toOctalString(mode));
        }
        // a write by someone else clears the setuid bit, on the host too
        assertEquals("ok", errno("os.chmod(a[0], 0o4777)", m + "/u"));
        assertEquals("ok", errnoAs(AS_NOBODY, "fd = os.open(a[0], os.O_WRONLY)\nos.write(fd, b'x')\nos.close(fd)", m + "/u"));
        assertEquals(0100777, hostMode(d.host.resolve("u")));
        // and a host chmod shows through the mount once the attribute timeout passed
        Files.setPosixFilePermissions(d.host.resolve("ud"), PosixFilePermissions.fromString("rwx------"));
        Sh.await(Duration.ofSeconds(5), "host chmod seen through the mount",
                () -> sameMode(d.mnt.resolve("ud"), 0040700));
    }

    private static boolean sameMode(Path p, int mode) {
        try {
            return hostMode(p) == mode;
        } catch (IOException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ xattrs, times, links

    @Test
    void xattrsGoBothWays() throws IOException {
        Pair d = pair("xattrs");
        Files.writeString(d.mnt.resolve("f"), "x");
        String mf = d.mnt.resolve("f").toString();
        String hf = d.host.resolve("f").toString();
        Sh.run("setfattr", "-n", "user.through", "-v", "mount", mf).ok();
        assertEquals("mount", Sh.run("getfattr", "--only-values", "-n", "user.through", "--absolute-names", hf)
                .ok().out());
        Sh.run("setfattr", "-n", "user.from", "-v", "host", hf).ok();
        assertEquals("host", Sh.run("getfattr", "--only-values", "-n", "user.from", "--absolute-names", mf).ok().out());
        Sh.run("setfattr", "-x", "user.through", mf).ok();
        assertEquals("ENODATA", errno("os.getxattr(a[0], 'user.through')", hf));
        assertEquals("['user.from']", Sh.python(List.of(), "print(sorted(os.listxattr(a[0])))", mf));
        // trusted.* and security.* are not for users; root may set trusted.* and the host sees it
        assertEquals("EPERM", errnoAs(AS_NOBODY, "os.setxattr(a[0], 'trusted.x', b'1')", mf));
        assertEquals("ok", errno("os.setxattr(a[0], 'trusted.x', b'1')", mf));
        assertEquals("1", Sh.run("getfattr", "--only-values", "-n", "trusted.x", "--absolute-names", hf).ok().out());
        assertEquals("EEXIST", errno("os.setxattr(a[0], 'user.from', b'v', os.XATTR_CREATE)", mf));
        assertEquals("ENODATA", errno("os.setxattr(a[0], 'user.nope', b'v', os.XATTR_REPLACE)", mf));
    }

    @Test
    void timesSetThroughTheMountAreTheHostsTimes() throws IOException {
        Pair d = pair("times");
        Files.writeString(d.mnt.resolve("f"), "x");
        long atime = 1_000_000_000L * 1_000_000_000L + 123_456_789L;
        long mtime = 1_100_000_000L * 1_000_000_000L + 987_654_321L;
        assertEquals("ok", errno("os.utime(a[0], ns=(int(a[1]), int(a[2])))", d.mnt.resolve("f"), atime, mtime));
        assertEquals(atime + " " + mtime, Sh.python(List.of(),
                "s = os.lstat(a[0]); print(s.st_atime_ns, s.st_mtime_ns)", d.host.resolve("f")));
        // only mtime (UTIME_OMIT for atime), and a symlink's own times (AT_SYMLINK_NOFOLLOW)
        assertEquals("ok", errno("os.utime(a[0], ns=(os.stat(a[0]).st_atime_ns, 5_000_000_000))", d.mnt.resolve("f")));
        assertEquals(atime + " 5000000000", Sh.python(List.of(),
                "s = os.lstat(a[0]); print(s.st_atime_ns, s.st_mtime_ns)", d.host.resolve("f")));
        Files.createSymbolicLink(d.mnt.resolve("ln"), Path.of("f"));
        assertEquals("ok", errno("os.utime(a[0], ns=(7_000_000_000, 8_000_000_000), follow_symlinks=False)",
                d.mnt.resolve("ln")));
        assertEquals("7000000000 8000000000", Sh.python(List.of(),
                "s = os.lstat(a[0]); print(s.st_atime_ns, s.st_mtime_ns)", d.host.resolve("ln")));
        // a host touch shows through the mount after the timeout
        Files.setLastModifiedTime(d.host.resolve("f"), FileTime.fromMillis(3_000_000_000_000L));
        Sh.await(Duration.ofSeconds(5), "host mtime seen through the mount",
                () -> mtimeMillis(d.mnt.resolve("f")) == 3_000_000_000_000L);
    }

    private static long mtimeMillis(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    void hardLinksAreTheHostsHardLinks() throws IOException {
        Pair d = pair("links");
        Files.writeString(d.mnt.resolve("a"), "shared");
        Files.createLink(d.mnt.resolve("b"), d.mnt.resolve("a"));
        assertEquals(host(d.host.resolve("a"), "ino"), host(d.host.resolve("b"), "ino"));
        assertEquals(2, host(d.host.resolve("a"), "nlink"));
        assertEquals(2, host(d.mnt.resolve("b"), "nlink"));
        assertEquals(host(d.mnt.resolve("a"), "ino"), host(d.mnt.resolve("b"), "ino"));
        Files.writeString(d.mnt.resolve("b"), "changed");
        assertEquals("changed", Files.readString(d.host.resolve("a")));
        // a link the host makes shows through the mount as one file
        Files.createLink(d.host.resolve("c"), d.host.resolve("a"));
        Sh.await(Duration.ofSeconds(5), "host link counted through the mount", () -> nlink(d.mnt.resolve("a")) == 3);
        assertEquals(host(d.mnt.resolve("a"), "ino"), host(d.mnt.resolve("c"), "ino"));
        Files.delete(d.mnt.resolve("a"));
        assertEquals(2, host(d.host.resolve("b"), "nlink"));
    }

    private static int nlink(Path p) {
        try {
            return (Integer) host(p, "nlink");
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    void renameFlagsActOnTheHost() throws IOException {
        Pair d = pair("rename");
        Files.writeString(d.mnt.resolve("x"), "X");
        Files.writeString(d.mnt.resolve("y"), "Y");
        Files.createDirectory(d.mnt.resolve("dir"));
        String renameat2 = "libc = ctypes.CDLL('libc.so.6', use_errno=True)\n"
                + "if libc.renameat2(-100, a[0].encode(), -100, a[1].encode(), int(a[2])) != 0:\n"
                + "    raise OSError(ctypes.get_errno(), 'renameat2')";
        String m = d.mnt.toString();
        assertEquals("EEXIST", errno(renameat2, m + "/x", m + "/y", 1)); // RENAME_NOREPLACE
        assertEquals("Y", Files.readString(d.host.resolve("y")));
        assertEquals("ok", errno(renameat2, m + "/x", m + "/z", 1));
        assertFalse(Files.exists(d.host.resolve("x")));
        assertEquals("X", Files.readString(d.host.resolve("z")));
        assertEquals("ok", errno(renameat2, m + "/z", m + "/dir", 2)); // RENAME_EXCHANGE: a file and a directory
        assertTrue(Files.isDirectory(d.host.resolve("z")));
        assertEquals("X", Files.readString(d.host.resolve("dir")));
        assertEquals("ENOENT", errno(renameat2, m + "/z", m + "/missing", 2));
        assertEquals("EINVAL", errno(renameat2, m + "/y", m + "/dir", 3));
        assertEquals("ok", errno("os.rename(a[0], a[1])", m + "/y", m + "/dir")); // plain rename replaces
        assertEquals("Y", Files.readString(d.host.resolve("dir")));
    }

    // ------------------------------------------------------------------ lock waits

    /**
     * A blocked F_SETLKW or flock(2) must end: with EDEADLK when two processes would wait for each
     * other (the kernel's rule; the host's OFD locks have no such check), and at once when the
     * waiting process is killed (the kernel then waits, uninterruptibly, for vfsgw's answer to its
     * INTERRUPT, so a wait vfsgw cannot abandon leaves an unkillable process). Found with stress-ng
     * --lockf, which hung on a posix mount.
     */
    @Test
    void blockedLockWaitsEndInEdeadlkOrWhenTheWaiterIsKilled() throws IOException {
        Pair d = pair("lockwaits");
        Files.writeString(d.mnt.resolve("f"), "");
        String report = Sh.python(List.of(), """
                import fcntl, signal, subprocess, time
                f = a[0]

                def blocked(pid):  # in the FUSE request, waiting for vfsgw's answer
                    for _ in range(2000):
                        try:
                            if open('/proc/%d/wchan' % pid).read() == 'request_wait_answer':
                                return True
                        except OSError:
                            return False
                        time.sleep(0.005)
                    return False

                def reap(pid):
                    end = time.time() + 20
                    while time.time() < end:
                        p, st = os.waitpid(pid, os.WNOHANG)
                        if p:
                            return st
                        time.sleep(0.005)
                    return None

                def name(n):  # python names errno 35 EDEADLOCK, its alias
                    return 'EDEADLK' if n == errno.EDEADLK else errno.errorcode[n]

                def outcome(st):
                    if st is None:
                        return 'hung'
                    if os.WIFSIGNALED(st):
                        return 'killed'
                    return 'granted' if os.WEXITSTATUS(st) == 0 else name(os.WEXITSTATUS(st))

                # Two processes, each holding a byte and asking for the other's.
                fd = os.open(f, os.O_RDWR)
                fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    fd2 = os.open(f, os.O_RDWR)
                    fcntl.lockf(fd2, fcntl.LOCK_EX, 1, 1)
                    os.write(w, b'x')
                    try:
                        fcntl.lockf(fd2, fcntl.LOCK_EX, 1, 0)
                        os._exit(0)
                    except OSError as e:
                        os._exit(e.errno)
                os.read(r, 1)
                assert blocked(pid), 'the child never waited'
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 1)
                    parent = 'granted'
                except OSError as e:
                    parent = name(e.errno)
                    fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)  # the child may have byte 0 now
                print('deadlock:', ' '.join(sorted([parent, outcome(reap(pid))])))
                fcntl.lockf(fd, fcntl.LOCK_UN, 0, 0)

                # A process waiting for a record lock, then for a flock, is killed.
                for kind in ('lockf', 'flock'):
                    if kind == 'lockf':
                        fcntl.lockf(fd, fcntl.LOCK_EX, 0, 0)
                    else:
                        fcntl.flock(fd, fcntl.LOCK_EX)
                    pid = os.fork()
                    if pid == 0:
                        fd2 = os.open(f, os.O_RDWR)
                        if kind == 'lockf':
                            fcntl.lockf(fd2, fcntl.LOCK_EX, 0, 0)
                        else:
                            fcntl.flock(fd2, fcntl.LOCK_EX)
                        os._exit(0)
                    assert blocked(pid), 'the %s waiter never waited' % kind
                    os.kill(pid, signal.SIGKILL)
                    print('killed %s waiter:' % kind, outcome(reap(pid)))
                    if kind == 'lockf':
                        fcntl.lockf(fd, fcntl.LOCK_UN, 0, 0)
                    else:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                # Nothing was left behind: another process takes both at once.
                print('free afterwards:', subprocess.run(['flock', '-n', f, 'python3', '-c',
                        'import fcntl,os; fcntl.lockf(os.open(%r, os.O_RDWR), fcntl.LOCK_EX|fcntl.LOCK_NB); print(1)' % f],
                        capture_output=True, text=True).stdout.strip() == '1')
                """, d.mnt.resolve("f"));
        assertEquals("""
                deadlock: EDEADLK granted
                killed lockf waiter: killed
                killed flock waiter: killed
                free afterwards: True""".strip(), report);
    }

    // ------------------------------------------------------------------ coherency with the host

    @Test
    void hostChangesAreSeenAfterTheCacheTimeout() throws IOException {
        Pair d = pair("coherency");
        Files.writeString(d.mnt.resolve("f"), "old");
        assertEquals("old", Files.readString(d.mnt.resolve("f")));
        assertFalse(Files.exists(d.mnt.resolve("new")));
        Files.writeString(d.host.resolve("f"), "newer content");
        Files.writeString(d.host.resolve("new"), "made on the host");
        Files.delete(d.host.resolve("f"));
        Files.writeString(d.host.resolve("f"), "replaced on the host");
        Sh.await(Duration.ofSeconds(5), "host file seen through the mount", () -> Files.exists(d.mnt.resolve("new")));
        Sh.await(Duration.ofSeconds(5), "host rewrite seen through the mount",
                () -> "replaced on the host".equals(read(d.mnt.resolve("f"))));
        Files.delete(d.host.resolve("new"));
        Sh.await(Duration.ofSeconds(5), "host unlink seen through the mount", () -> !Files.exists(d.mnt.resolve("new")));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    // ------------------------------------------------------------------ options

    @Test
    void readonlyRefusesEveryChangeWithErofs() throws Exception {
        Path src = Sh.diskDir("ro");
        Files.writeString(src.resolve("f"), "keep");
        Files.createDirectory(src.resolve("d"));
        try (PosixGateway ro = PosixGateway.mount(src, "--readonly")) {
            String m = ro.dir().toString();
            String options = Files.readAllLines(Path.of("/proc/self/mounts")).stream()
                    .filter(l -> l.split(" ")[1].equals(m)).map(l -> l.split(" ")[3]).findFirst().orElse("");
            assertTrue(options.startsWith("ro,"), "mounted read-only, as mount(8) shows it: " + options);
            assertEquals("keep", Files.readString(ro.dir().resolve("f")));
            for (String op : List.of("os.mkdir(a[0] + '/n')", "os.open(a[0] + '/n', os.O_CREAT | os.O_WRONLY)",
                    "os.open(a[0] + '/f', os.O_WRONLY)", "os.open(a[0] + '/f', os.O_RDONLY | os.O_TRUNC)",
                    "os.unlink(a[0] + '/f')", "os.rmdir(a[0] + '/d')", "os.rename(a[0] + '/f', a[0] + '/g')",
                    "os.chmod(a[0] + '/f', 0o600)", "os.chown(a[0] + '/f', 1, 1)", "os.symlink('x', a[0] + '/s')",
                    "os.link(a[0] + '/f', a[0] + '/h')", "os.mkfifo(a[0] + '/p')", "os.truncate(a[0] + '/f', 0)",
                    "os.utime(a[0] + '/f', (1, 1))", "os.setxattr(a[0] + '/f', 'user.x', b'1')")) {
                assertEquals("EROFS", errno(op, m), op);
            }
            assertEquals("keep", Files.readString(src.resolve("f")));
            try (var s = Files.list(src)) {
                assertEquals(List.of("d", "f"), s.map(p -> p.getFileName().toString()).sorted().toList());
            }
        } finally {
            Sh.deleteTree(src);
        }
    }

    @Test
    void uidMapTranslatesOwnersBothWays() throws Exception {
        Path src = Sh.diskDir("idmap");
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(src.resolve("host-root"), "x"); // host uid 0: outside the map
        Path mapped = Files.writeString(src.resolve("host-100005"), "y");
        Files.setAttribute(mapped, "unix:uid", 100005);
        Files.setAttribute(mapped, "unix:gid", 100007);
        try (PosixGateway g = PosixGateway.mount(src, "--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536")) {
            Path m = g.dir();
            assertEquals(5, host(m.resolve("host-100005"), "uid"));
            assertEquals(7, host(m.resolve("host-100005"), "gid"));
            assertEquals(65534, host(m.resolve("host-root"), "uid"));
            // guest root creates: the host records uid/gid 100000; nobody (65534) becomes 165534
            Files.writeString(m.resolve("by-root"), "r");
            assertEquals(100000, host(src.resolve("by-root"), "uid"));
            assertEquals(100000, host(src.resolve("by-root"), "gid"));
            assertEquals(0, host(m.resolve("by-root"), "uid"));
            assertEquals("ok", errnoAs(AS_NOBODY, "os.mkdir(a[0])", m.resolve("by-nobody")));
            assertEquals(165534, host(src.resolve("by-nobody"), "uid"));
            assertEquals(65534, host(m.resolve("by-nobody"), "uid"));
            assertEquals("ok", errno("os.chown(a[0], 42, 43)", m.resolve("by-root")));
            assertEquals(100042, host(src.resolve("by-root"), "uid"));
            assertEquals(100043, host(src.resolve("by-root"), "gid"));
        } finally {
            Sh.deleteTree(src);
        }
    }
}
