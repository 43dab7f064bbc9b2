package io.vfsgw.it;

import static io.vfsgw.it.Shell.AS_NOBODY;
import static io.vfsgw.it.Shell.bash;
import static io.vfsgw.it.Shell.errno;
import static io.vfsgw.it.Shell.errnoAs;
import static io.vfsgw.it.Shell.python;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.guest.GuestScripts;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The mem backend mounted on the host through /dev/fuse, driven with java.nio and ordinary tools:
 * every operation, the errno of every failure, data integrity of large and sparse files, parallel
 * directory changes. One mount for the class; tests work in their own subdirectories.
 */
class MemMountIT {
    private static MountedGateway gw;
    private static Path mnt;

    @BeforeAll
    static void mount() {
        gw = MountedGateway.inProcess("--mem-size", "2G");
        mnt = gw.dir();
    }

    @AfterAll
    static void unmount() {
        if (gw != null) {
            gw.close();
        }
    }

    private static Path dir(String name) throws IOException {
        return Files.createDirectory(mnt.resolve(name));
    }

    @Test
    void createReadWriteAppendTruncate() throws IOException {
        Path d = dir("rw");
        Path f = d.resolve("f");
        Files.writeString(f, "hello");
        assertEquals("hello", Files.readString(f));
        Files.writeString(f, " world", StandardOpenOption.APPEND);
        assertEquals("hello world", Files.readString(f));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("J".getBytes(StandardCharsets.US_ASCII)), 0);
            ch.truncate(5);
        }
        assertEquals("Jello", Files.readString(f));
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'!'}), 9);
        }
        assertArrayEquals(new byte[] {'J', 'e', 'l', 'l', 'o', 0, 0, 0, 0, '!'}, Files.readAllBytes(f));
        Files.writeString(f, "x", StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals(1, Files.size(f));
        bash("cd " + d + " && printf abc > t && truncate -s 6 t && [ \"$(od -An -c t | tr -s ' ')\" = ' a b c \\0 \\0 \\0' ]");
    }

    @Test
    void directoriesRenameAndTools() throws IOException {
        Path d = dir("tree");
        Files.createDirectories(d.resolve("a/b/c"));
        Files.writeString(d.resolve("a/b/c/f"), "deep");
        Files.move(d.resolve("a/b"), d.resolve("b2"));
        assertEquals("deep", Files.readString(d.resolve("b2/c/f")));
        assertFalse(Files.exists(d.resolve("a/b")));
        Files.delete(d.resolve("b2/c/f"));
        Files.delete(d.resolve("b2/c"));
        Files.delete(d.resolve("b2"));
        assertEquals(List.of("a"), names(d));
        // cp -a, mv, find and tar over a real source tree, compared with diff -r
        Path src = Shell.repoRoot().resolve("gateway-core/src");
        bash("cp -a " + src + " " + d + "/src && diff -r " + src + " " + d + "/src"
                + " && mv " + d + "/src " + d + "/moved && [ ! -e " + d + "/src ]"
                + " && [ \"$(cd " + src + " && find . | sort)\" = \"$(cd " + d + "/moved && find . | sort)\" ]"
                + " && tar -C " + d + "/moved -cf " + d + "/t.tar . && mkdir " + d + "/untar"
                + " && tar -C " + d + "/untar -xf " + d + "/t.tar && diff -r " + src + " " + d + "/untar"
                + " && rm -rf " + d + "/moved " + d + "/untar && [ -z \"$(ls " + d + "/a)\" ]");
    }

    @Test
    void renameat2NoreplaceAndExchange() throws IOException {
        Path d = dir("rename2");
        Files.writeString(d.resolve("x"), "X");
        Files.writeString(d.resolve("y"), "Y");
        String r2 = "l = ctypes.CDLL(None, use_errno=True)\n"
                + "if l.renameat2(-100, a[0].encode(), -100, a[1].encode(), int(a[2])) != 0:\n"
                + "    raise OSError(ctypes.get_errno(), 'renameat2')";
        assertEquals("EEXIST", errno(r2, d.resolve("x"), d.resolve("y"), 1));
        assertEquals("ok", errno(r2, d.resolve("x"), d.resolve("y"), 2));
        assertEquals("Y", Files.readString(d.resolve("x")));
        assertEquals("X", Files.readString(d.resolve("y")));
        assertEquals("ok", errno(r2, d.resolve("x"), d.resolve("z"), 1));
        assertEquals("ENOENT", errno(r2, d.resolve("x"), d.resolve("y"), 2));
        assertEquals(List.of("y", "z"), names(d));
    }

    @Test
    void symlinksAndHardLinks() throws IOException {
        Path d = dir("links");
        Files.writeString(d.resolve("f"), "data");
        bash("cd " + d + " && ln -s f s && ln f h && [ \"$(readlink s)\" = f ] && [ \"$(cat s)\" = data ]"
                + " && [ \"$(stat -c %h f)\" = 2 ] && [ \"$(stat -c %i f)\" = \"$(stat -c %i h)\" ]");
        Files.writeString(d.resolve("h"), "more", StandardOpenOption.APPEND);
        assertEquals("datamore", Files.readString(d.resolve("f")));
        Files.delete(d.resolve("f"));
        assertEquals("datamore", Files.readString(d.resolve("h")));
        assertTrue(Files.isSymbolicLink(d.resolve("s")));
        assertFalse(Files.exists(d.resolve("s")), "dangling after the target went");
        assertEquals("1", bash("stat -c %h " + d.resolve("h")).strip());
    }

    @Test
    void chmodChownAndTimes() throws IOException {
        Path d = dir("attrs");
        Path f = Files.writeString(d.resolve("f"), "x");
        bash("chmod 4751 " + f + " && chown 123:456 " + f);
        assertEquals("751 123 456", bash("stat -c '%a %u %g' " + f).strip(), "chown clears suid, as on Linux");
        bash("chmod 4751 " + f);
        assertEquals("4751", bash("stat -c %a " + f).strip());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertEquals("600", bash("stat -c %a " + f).strip());
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000_000_123L));
        assertEquals(FileTime.fromMillis(1_000_000_000_123L), Files.getLastModifiedTime(f));
        bash("touch -a -d '2001-02-03 04:05:06.789' " + f);
        assertEquals("2001-02-03 04:05:06.789000000", bash("TZ=UTC stat -c %x " + f).strip().substring(0, 29));
        // utimensat UTIME_OMIT for mtime keeps it, UTIME_NOW for atime moves it
        assertEquals("ok", errno("os.utime(a[0], ns=(5, 6))\nassert os.stat(a[0]).st_mtime_ns == 6", f));
    }

    @Test
    void xattrs() throws IOException {
        Path f = Files.writeString(dir("xattr").resolve("f"), "x");
        bash("setfattr -n user.color -v blue " + f + " && setfattr -n user.empty " + f);
        assertEquals("\"blue\"", bash("getfattr --only-values -n user.color " + f + " | od -An -c | tr -d ' \\n' | sed 's/^/\"/;s/$/\"/'").strip());
        String dump = bash("getfattr -d " + f);
        assertTrue(dump.contains("user.color=\"blue\"") && dump.contains("user.empty"), dump);
        bash("setfattr -x user.color " + f);
        assertEquals("ENODATA", errno("os.getxattr(a[0], 'user.color')", f));
        assertEquals(List.of("user.empty"), List.of(python("print(','.join(os.listxattr(a[0])))", f).split(",")));
    }

    @Test
    void fifosAndDeviceNodes() throws IOException {
        Path d = dir("nodes");
        bash("cd " + d + " && mkfifo p && mknod c c 1 3 && mknod b b 7 200"
                + " && [ \"$(stat -c %F p)\" = fifo ] && [ \"$(stat -c '%F %t %T' c)\" = 'character special file 1 3' ]"
                + " && [ \"$(stat -c '%F %t %T' b)\" = 'block special file 7 c8' ]");
        // the fifo works as a pipe through the mount
        assertEquals("through the fifo", python("""
                fd = os.open(a[0], os.O_RDWR)
                os.write(fd, b'through the fifo')
                print(os.read(fd, 100).decode())""", d.resolve("p")));
    }

    @Test
    void fallocatePunchHoleAndSeekDataHole() throws IOException {
        Path f = dir("falloc").resolve("f");
        long m = 1 << 20;
        bash("fallocate -l 8M " + f + " && [ $(stat -c %s " + f + ") = 8388608 ]"
                + " && dd if=/dev/urandom of=" + f + " bs=1M count=8 conv=notrunc status=none"
                + " && fallocate -p -o 2M -l 3M " + f + " && [ $(stat -c %s " + f + ") = 8388608 ]"
                + " && cmp -n 3145728 -i 2097152:0 " + f + " /dev/zero");
        String seeks = python("""
                fd = os.open(a[0], os.O_RDONLY)
                print(os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 2 << 20, os.SEEK_DATA), os.lseek(fd, 5 << 20, os.SEEK_HOLE))
                try:
                    os.lseek(fd, 9 << 20, os.SEEK_DATA)
                except OSError as e:
                    print(errno.errorcode[e.errno])""", f);
        assertEquals((2 * m) + " " + (5 * m) + " " + (8 * m) + "\nENXIO", seeks);
    }

    @Test
    void copyFileRange() throws IOException {
        Path d = dir("cfr");
        byte[] data = new byte[3 << 20];
        new java.util.Random(7).nextBytes(data);
        Files.write(d.resolve("src"), data);
        String n = python("""
                s, t = os.open(a[0], os.O_RDONLY), os.open(a[1], os.O_WRONLY | os.O_CREAT, 0o644)
                total = 0
                while True:
                    k = os.copy_file_range(s, t, 1 << 30)
                    if k == 0:
                        break
                    total += k
                print(total)""", d.resolve("src"), d.resolve("dst"));
        assertEquals(String.valueOf(data.length), n);
        assertArrayEquals(data, Files.readAllBytes(d.resolve("dst")));
        bash("cp --reflink=never " + d.resolve("src") + " " + d.resolve("cp") + " && cmp " + d.resolve("src") + " " + d.resolve("cp"));
    }

    @Test
    void fsxMatchesItsModel() throws Exception {
        Path d = dir("fsx");
        for (String mode : new String[] {"buffered", "direct"}) { // direct: O_DIRECT mixed with buffered and mmap
            Path f = d.resolve(mode + ".dat");
            String out = Shell.run(Duration.ofSeconds(300), List.of(GuestScripts.fsops().toString(), "fsx",
                    f.toString(), "20000", "5", mode)).ok().out();
            GuestScripts.assertFsxResult(out, Files.readAllBytes(f));
        }
    }

    @Test
    void flockAndFcntlLocks() throws IOException {
        Path f = Files.writeString(dir("locks").resolve("f"), "x");
        // flock(1) cannot take the lock while a python process holds it, and can after
        String held = python("""
                import subprocess
                fd = os.open(a[0], os.O_RDWR)
                fcntl.flock(fd, fcntl.LOCK_EX)
                busy = subprocess.run(['flock', '-n', a[0], 'true']).returncode
                fcntl.flock(fd, fcntl.LOCK_UN)
                free = subprocess.run(['flock', '-n', a[0], 'true']).returncode
                fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
                child = subprocess.run([sys.executable, '-c', 'import fcntl,os,sys\\nfd=os.open(sys.argv[1],os.O_RDWR)\\n'
                    'try:\\n fcntl.lockf(fd, fcntl.LOCK_EX|fcntl.LOCK_NB, 10, 5); print("got")\\n'
                    'except OSError as e: print(e.errno)', a[0]], capture_output=True, text=True).stdout.strip()
                print(busy, free, child)""", f);
        assertEquals("1 0 11", held);
    }

    /**
     * A process waiting in F_SETLKW must not take a FUSE worker away from everyone else: with
     * {@code --threads 2}, three blocked waiters must still leave stat(2) and the holder's unlock
     * answered, and then each waiter gets the lock in turn. Runs against its own gateway process,
     * which is SIGKILLed at the end so a hung mount cannot outlive the test.
     */
    @Test
    void blockingLockWaitersDoNotStallTheMount() throws Exception {
        MountedGateway gw = MountedGateway.separateProcess("--mem-size", "64M", "--threads", "2");
        try {
            Path f = Files.writeString(gw.dir().resolve("lk"), "x");
            // Never wait for a child that may hang in the file system: a process killed while its FUSE
            // request is in flight stays in D state until the server answers.
            String r = python("""
                    import subprocess, time
                    P, Q = sys.executable, subprocess.DEVNULL
                    holder = subprocess.Popen([P, '-c', 'import fcntl,os,sys\\nfd=os.open(sys.argv[1],os.O_RDWR)\\n'
                        'fcntl.lockf(fd,fcntl.LOCK_EX)\\nprint("locked",flush=True)\\nsys.stdin.readline()\\n'
                        'fcntl.lockf(fd,fcntl.LOCK_UN)\\nprint("unlocked",flush=True)', a[0]],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=Q, text=True)
                    assert holder.stdout.readline().strip() == 'locked'
                    waiters = [subprocess.Popen([P, '-c', 'import fcntl,os,sys,time\\nfd=os.open(sys.argv[1],os.O_RDWR)\\n'
                        'fcntl.lockf(fd,fcntl.LOCK_EX)\\ntime.sleep(0.05)\\nfcntl.lockf(fd,fcntl.LOCK_UN)\\nprint("got")', a[0]],
                        stdout=subprocess.PIPE, stderr=Q, text=True) for i in range(3)]
                    def waiting(p):
                        try:
                            return open(f'/proc/{p.pid}/wchan').read() == 'request_wait_answer'
                        except OSError:
                            return False
                    end = time.time() + 10
                    while not all(waiting(w) for w in waiters) and time.time() < end:
                        time.sleep(0.02)
                    st = subprocess.Popen(['stat', '-c', '%s', a[0]], stdout=Q, stderr=Q)
                    try:
                        print('stat', 'answered' if st.wait(timeout=5) == 0 else 'failed')
                    except subprocess.TimeoutExpired:
                        print('stat hung')
                    holder.stdin.write('\\n')
                    holder.stdin.flush()
                    end = time.time() + 5
                    while holder.poll() is None and time.time() < end:
                        time.sleep(0.02)
                    print('unlock', 'done' if holder.poll() == 0 else 'hung')
                    end = time.time() + 5
                    while any(w.poll() is None for w in waiters) and time.time() < end:
                        time.sleep(0.02)
                    print('waiters', sum(1 for w in waiters if w.poll() == 0))
                    os._exit(0)   # skip the interpreter's wait for stuck children""", f);
            assertEquals("stat answered\nunlock done\nwaiters 3", r,
                    "blocked F_SETLKW waiters occupy every FUSE worker; nothing else is served");
        } finally {
            gw.process().destroyForcibly();
            gw.awaitExit(Duration.ofSeconds(15));
            gw.close();
        }
    }

    /**
     * File data lives off the heap: a 1 GiB mount served by a JVM with a 256 MiB heap takes 600 MiB
     * of writes, reads them back intact, and gives the memory back when the file goes.
     */
    @Test
    void memSizeBeyondTheHeapHoldsItsData() throws Exception {
        MountedGateway gw = MountedGateway.separateProcess(List.of("-Xmx256m"), "--mem-size", "1G");
        try {
            String r = python("""
                    import hashlib
                    h = hashlib.sha256()
                    with open(a[0] + '/big', 'wb') as f:
                        for i in range(600):
                            b = bytes([i % 251]) * (1 << 20)
                            h.update(b)
                            f.write(b)
                    g = hashlib.sha256()
                    with open(a[0] + '/big', 'rb') as f:
                        while True:
                            b = f.read(1 << 20)
                            if not b:
                                break
                            g.update(b)
                    print('same' if g.digest() == h.digest() else 'different')""", gw.dir());
            assertEquals("same", r, "600 MiB written through a 256 MiB-heap gateway read back");
            // File data lives in the pool's memfd, written with pwritev (not through the mapping,
            // so not in RSS): what the kernel holds for the memfd is the measure.
            long pid = gw.process().pid();
            long withData = memfdBytes(pid);
            assertTrue(withData >= 600L << 20, "the memfd holds the 600 MiB file: " + withData);
            Files.delete(gw.dir().resolve("big"));
            // RELEASE of the closed file may reach the gateway after UNLINK: wait for the free.
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            long after = memfdBytes(pid);
            while (withData - after <= 590L << 20 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                after = memfdBytes(pid);
            }
            assertTrue(withData - after > 590L << 20,
                    "deleting the file gives its memory back: memfd " + withData + " -> " + after + " bytes");
        } finally {
            gw.close();
        }
    }

    /** Bytes the kernel holds for the mem backend's memfd in process {@code pid} (its st_blocks). */
    private static long memfdBytes(long pid) throws Exception {
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    continue;
                }
                if (target.startsWith("/memfd:vfsgw-mem")) {
                    Process p = new ProcessBuilder("stat", "-L", "-c", "%b %B", fd.toString()).start();
                    String[] out = new String(p.getInputStream().readAllBytes()).trim().split(" ");
                    assertEquals(0, p.waitFor(), "stat " + fd);
                    return Long.parseLong(out[0]) * Long.parseLong(out[1]);
                }
            }
        }
        throw new AssertionError("no /memfd:vfsgw-mem among the fds of " + pid);
    }

    @Test
    void statfsShowsCapacity() {
        String[] df = bash("df -B1 --output=size,used,avail " + mnt + " | tail -1").trim().split("\\s+");
        assertEquals(2L << 30, Long.parseLong(df[0]));
        assertTrue(Long.parseLong(df[2]) <= Long.parseLong(df[0]) - Long.parseLong(df[1]), String.join(" ", df));
        assertEquals("255", bash("stat -f -c %l " + mnt).strip());
    }

    @Test
    void tmpfileAndUnlinkedOpenFiles() throws IOException {
        Path d = dir("tmpfile");
        assertEquals("7 0 [] b'tmpdata' 1", python("""
                fd = os.open(a[0], os.O_TMPFILE | os.O_RDWR, 0o600)
                os.write(fd, b'tmpdata')
                st = os.fstat(fd)
                listing = os.listdir(a[0])
                l = ctypes.CDLL(None, use_errno=True)
                assert l.linkat(fd, b'', -100, (a[0] + '/named').encode(), 0x1000) == 0, ctypes.get_errno()
                print(st.st_size, st.st_nlink, listing, open(a[0] + '/named', 'rb').read(), os.fstat(fd).st_nlink)""", d));
        Path f = Files.writeString(d.resolve("u"), "unlinked but open");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Files.delete(f);
            assertFalse(Files.exists(f));
            ch.write(ByteBuffer.wrap("UNLINKED".getBytes(StandardCharsets.US_ASCII)), 0);
            ByteBuffer b = ByteBuffer.allocate(64);
            ch.read(b, 0);
            assertEquals("UNLINKED but open", new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void errnoOfEveryFailure() throws IOException {
        Path d = dir("errnos");
        Path f = Files.writeString(d.resolve("f"), "x");
        Files.createDirectories(d.resolve("full/sub"));
        assertEquals("ENOENT", errno("open(a[0])", d.resolve("missing")));
        assertEquals("ENOENT", errno("os.mkdir(a[0])", d.resolve("missing/x")));
        assertEquals("EEXIST", errno("os.mkdir(a[0])", f));
        assertEquals("EEXIST", errno("os.open(a[0], os.O_CREAT | os.O_EXCL)", f));
        assertEquals("ENOTEMPTY", errno("os.rmdir(a[0])", d.resolve("full")));
        assertEquals("EISDIR", errno("os.unlink(a[0])", d.resolve("full")));
        assertEquals("EISDIR", errno("open(a[0], 'w')", d.resolve("full")));
        assertEquals("ENOTDIR", errno("os.rmdir(a[0])", f));
        assertEquals("ENOTDIR", errno("os.listdir(a[0])", f));
        assertEquals("ENOTDIR", errno("os.stat(a[0] + '/x')", f));
        assertEquals("ok", errno("open(a[0] + '/' + 'n' * 255, 'w')", d));
        assertEquals("ENAMETOOLONG", errno("open(a[0] + '/' + 'n' * 256, 'w')", d));
        assertEquals("ENAMETOOLONG", errno("os.mkdir(a[0] + '/' + 'n' * 256)", d));
        assertEquals("ENAMETOOLONG", errno("os.stat(a[0] + '/' + 'n' * 256)", d));
        // a non-root user against a 0700 directory
        Path closed = Files.createDirectory(d.resolve("closed"));
        Files.writeString(closed.resolve("secret"), "s");
        bash("chmod 700 " + closed);
        assertEquals("EACCES", errnoAs(AS_NOBODY, "os.listdir(a[0])", closed));
        assertEquals("EACCES", errnoAs(AS_NOBODY, "os.stat(a[0] + '/secret')", closed));
        assertEquals("EACCES", errnoAs(AS_NOBODY, "open(a[0] + '/new', 'w')", closed));
        assertEquals("EPERM", errnoAs(AS_NOBODY, "os.chmod(a[0], 0o777)", f));
    }

    /**
     * Under --writeback-cache the kernel keeps written data in its page cache and asks the server
     * about holes without writing it back first: the server's answer (a hole, or ENXIO past its
     * shorter EOF) would make hole-aware copies skip real data. stress-ng --seek failed so.
     */
    @Test
    void writebackCacheMountsAnswerSeekDataAndHoleFromWhatWasWritten() throws Exception {
        try (MountedGateway wb = MountedGateway.inProcess("--mem-size", "256M", "--writeback-cache")) {
            Path f = wb.dir().resolve("sparse");
            String r = python("""
                    fd = os.open(a[0], os.O_RDWR | os.O_CREAT, 0o644)
                    os.pwrite(fd, b'x' * 4096, 0)
                    os.pwrite(fd, b'y' * 4096, 8 << 20)   # still in the page cache: nothing written back
                    size = os.fstat(fd).st_size
                    data = os.lseek(fd, 1 << 20, os.SEEK_DATA)
                    hole = os.lseek(fd, 8 << 20, os.SEEK_HOLE)
                    print(size, data <= 8 << 20, hole == size)
                    os.close(fd)""", f);
            assertEquals((8 << 20) + 4096 + " True True", r, "size, data found by 8 MiB, no hole before EOF");
            bash("cp --sparse=always " + f + " " + f + ".copy && cmp " + f + " " + f + ".copy");
        }
    }

    @Test
    void exdevAcrossMounts() throws IOException {
        Path d = dir("exdev");
        Path f = Files.writeString(d.resolve("f"), "moving");
        Path tmp = Files.createTempDirectory("vfsgw-exdev-");
        try (MountedGateway other = MountedGateway.inProcess("--mem-size", "64M")) {
            assertEquals("EXDEV", errno("os.rename(a[0], a[1])", f, tmp.resolve("f")));
            assertEquals("EXDEV", errno("os.rename(a[0], a[1])", f, other.dir().resolve("f")));
            assertEquals("EXDEV", errno("os.link(a[0], a[1])", f, other.dir().resolve("f")));
            Path back = Files.writeString(tmp.resolve("g"), "g");
            assertEquals("EXDEV", errno("os.rename(a[0], a[1])", back, d.resolve("g")));
            // mv falls back to copy and delete
            bash("mv " + f + " " + other.dir() + "/f && [ \"$(cat " + other.dir() + "/f)\" = moving ] && [ ! -e " + f + " ]");
        } finally {
            bash("rm -rf " + tmp);
        }
    }

    @Test
    void enospcWhenFullAndSpaceComesBack() throws Exception {
        try (MountedGateway small = MountedGateway.inProcess("--mem-size", "64M")) {
            Path f = small.dir().resolve("big");
            String r = python("""
                    fd = os.open(a[0], os.O_WRONLY | os.O_CREAT, 0o644)
                    buf, n = b'z' * (1 << 20), 0
                    try:
                        for i in range(100):
                            n += os.write(fd, buf)
                        os.fsync(fd)
                        os.close(fd)
                        print('no error', n)
                    except OSError as e:
                        print(errno.errorcode[e.errno], n >> 20)""", f);
            String[] parts = r.split(" ");
            assertEquals("ENOSPC", parts[0], r);
            int mib = Integer.parseInt(parts[1]);
            assertTrue(mib >= 56 && mib <= 64, "stopped after " + mib + " MiB of 64");
            Files.delete(f);
            // The writer's close reaches the gateway as an asynchronous RELEASE, and the unlinked
            // file's pages are freed then: wait (bounded) until statfs shows the space again.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (Files.getFileStore(small.dir()).getUsableSpace() < (48L << 20) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            // the space is free again: a 48 MiB file fits
            bash("dd if=/dev/zero of=" + small.dir() + "/again bs=1M count=48 status=none conv=fsync");
            assertEquals(48L << 20, Files.size(small.dir().resolve("again")));
        }
    }

    @Test
    void spaceAndInodesComeBackWhenUnlinkedFilesAreClosed() {
        try (MountedGateway small = MountedGateway.inProcess("--mem-size", "64M", "--mem-inodes", "1000")) {
            String r = python("""
                    import time
                    def free():
                        s = os.statvfs(a[0])
                        return s.f_bfree * s.f_frsize, s.f_ffree
                    base = free()
                    d = a[0] + '/d'
                    os.mkdir(d)
                    fds = []
                    for i in range(200):
                        p = f'{d}/f{i}'
                        with open(p, 'wb') as f:
                            f.write(b'x' * 65536)
                        if i % 4 == 0:
                            os.link(p, p + '.hl')
                            fds.append(os.open(p, os.O_RDONLY))
                    for n in os.listdir(d):
                        os.unlink(d + '/' + n)
                    os.rmdir(d)
                    # The last files written were closed with an asynchronous RELEASE that may still
                    # be on its way: wait (bounded) until only the 50 open files hold blocks.
                    deadline = time.time() + 10
                    held = free()
                    while (base[0] - held[0]) >> 16 > 50 and time.time() < deadline:
                        time.sleep(0.05)
                        held = free()
                    readable = all(os.pread(fd, 1, 65535) == b'x' for fd in fds)
                    for fd in fds:
                        os.close(fd)
                    deadline = time.time() + 10   # the kernel sends FORGET asynchronously after the last close
                    while free() != base and time.time() < deadline:
                        time.sleep(0.05)
                    print(base[1] - held[1], (base[0] - held[0]) >> 16, readable, free() == base, base, free())
                    # inode exhaustion is ENOSPC too
                    n = 0
                    try:
                        while True:
                            os.close(os.open(f'{a[0]}/i{n}', os.O_CREAT | os.O_WRONLY, 0o644))
                            n += 1
                    except OSError as e:
                        print(errno.errorcode[e.errno], n)""", small.dir());
            String[] lines = r.split("\n");
            // held inodes (the 50 open files; the removed directory until its FORGET arrives), held 64K blocks,
            // the open files readable, and everything freed after the last close
            String[] held = lines[0].split(" ");
            int inodes = Integer.parseInt(held[0]);
            assertTrue(inodes == 50 || inodes == 51, r);
            assertEquals("50 True True", held[1] + " " + held[2] + " " + held[3], r);
            String[] full = lines[1].split(" ");
            assertEquals("ENOSPC", full[0], r);
            assertTrue(Integer.parseInt(full[1]) >= 990 && Integer.parseInt(full[1]) <= 1000, r);
        }
    }

    @Test
    void largeDenseFileSurvivesByChecksum() throws IOException {
        Path ref = Files.createTempFile("vfsgw-dense-", ".bin");
        try {
            Path f = dir("dense").resolve("big");
            // 256 MiB of random bytes, written in odd-sized blocks, read back with O_DIRECT (not the page cache)
            String sums = bash("head -c 268435456 /dev/urandom > " + ref
                    + " && dd if=" + ref + " of=" + f + " bs=1000000 status=none"
                    + " && sha256sum < " + ref + " && dd if=" + f + " iflag=direct bs=1M status=none | sha256sum");
            String[] l = sums.strip().split("\n");
            assertEquals(l[0], l[1]);
            assertEquals(256L << 20, Files.size(f));
            Files.delete(f);
        } finally {
            Files.deleteIfExists(ref);
        }
    }

    @Test
    void sparse4GiBFileKeepsOnlyWrittenBlocks() throws IOException {
        Path f = dir("sparse").resolve("s");
        long[] offsets = {0, 1L << 30, 3L << 30, (4L << 30) - 4096};
        StringBuilder script = new StringBuilder("truncate -s 4G " + f);
        for (long off : offsets) {
            script.append(" && head -c 4096 /dev/urandom > /tmp/vfsgw-blk-").append(off)
                    .append(" && dd if=/tmp/vfsgw-blk-").append(off).append(" of=").append(f)
                    .append(" bs=4096 seek=").append(off / 4096).append(" conv=notrunc status=none");
        }
        bash(script.toString());
        try {
            assertEquals(4L << 30, Files.size(f));
            long kib = Long.parseLong(bash("du -k " + f + " | cut -f1").strip());
            assertTrue(kib < 4 * 1024, "4 written blocks take " + kib + " KiB");
            for (long off : offsets) {
                String s = bash("dd if=" + f + " iflag=direct,skip_bytes skip=" + off + " bs=4096 count=1 status=none | sha256sum"
                        + " && sha256sum < /tmp/vfsgw-blk-" + off);
                String[] l = s.strip().split("\n");
                assertEquals(l[1], l[0], "block at " + off);
            }
            // a hole in the middle reads as zeros
            bash("cmp -n 1048576 -i 2147483648:0 " + f + " /dev/zero");
        } finally {
            bash("rm -f /tmp/vfsgw-blk-*");
            Files.delete(f);
        }
    }

    @Test
    void eightThreadsCreateRenameDeleteInOneDirectory() throws Exception {
        Path d = dir("parallel");
        int threads = 8;
        int perThread = 150;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            done.add(pool.submit(() -> {
                for (int i = 0; i < perThread; i++) {
                    Path created = d.resolve("c" + id + "-" + i);
                    Files.writeString(created, id + ":" + i, StandardOpenOption.CREATE_NEW);
                    Path renamed = d.resolve("r" + id + "-" + i);
                    Files.move(created, renamed, StandardCopyOption.ATOMIC_MOVE);
                    if (i % 3 == 0) {
                        Files.delete(renamed);
                    }
                    if (i % 10 == 0) {
                        try (Stream<Path> s = Files.list(d)) {
                            s.count(); // listings interleave with the changes
                        }
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        Set<String> expected = new TreeSet<>();
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                if (i % 3 != 0) {
                    expected.add("r" + t + "-" + i);
                }
            }
        }
        assertEquals(expected, new TreeSet<>(names(d)));
        for (String n : expected) {
            String[] ti = n.substring(1).split("-");
            assertEquals(ti[0] + ":" + ti[1], Files.readString(d.resolve(n)));
        }
        assertEquals(expected.size(), Integer.parseInt(bash("ls -f " + d + " | grep -c '^r'").strip()));
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}
