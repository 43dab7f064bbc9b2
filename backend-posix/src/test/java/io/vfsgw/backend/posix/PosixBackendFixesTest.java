package io.vfsgw.backend.posix;

import static io.vfsgw.spi.StorageBackend.ROOT_ID;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The posix backend bugs the contract and conformance runs found, pinned at the SPI: readdir's own
 * "." and ".." and their cookies, suid/sgid cleared by a size-less kill request (O_TRUNC open by a
 * non-owner), and getlk naming the guest process holding a conflicting OFD lock.
 */
class PosixBackendFixesTest {
    private static final RequestContext ROOT = RequestContext.ROOT;

    private Path source;
    private PosixBackend fs;

    @BeforeEach
    void setUp() throws Exception {
        Path base = Files.createDirectories(Path.of("target", "fixes").toAbsolutePath());
        source = Files.createTempDirectory(base, "src");
        fs = PosixBackend.open(PosixOptions.of(source));
    }

    @AfterEach
    void tearDown() throws Exception {
        fs.close();
        try (var s = Files.walk(source)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private List<DirEntry> readdir(long node, long fh, long cookie, int max) throws Exception {
        List<DirEntry> got = new ArrayList<>();
        fs.readdir(ROOT, node, fh, cookie, e -> got.size() < max && got.add(e));
        return got;
    }

    private static List<String> names(List<DirEntry> l) {
        return l.stream().map(e -> e.name().toString()).toList();
    }

    @Test
    void readdirListsItsOwnDotsFirstAndResumesAfterEachOfThem() throws Exception {
        for (String n : List.of("b", "a", "c")) {
            Files.writeString(source.resolve(n), n);
        }
        long d = ROOT_ID;
        OpenResult h = fs.opendir(ROOT, d, 0);
        List<DirEntry> first = readdir(d, h.fh(), 0, 1);
        assertEquals(List.of("."), names(first));
        assertEquals(PosixBackend.COOKIE_AFTER_DOT, first.get(0).nextCookie());
        List<DirEntry> second = readdir(d, h.fh(), first.get(0).nextCookie(), 1);
        assertEquals(List.of(".."), names(second));
        assertEquals(ROOT_ID, second.get(0).ino()); // the root's parent is the root
        List<DirEntry> rest = readdir(d, h.fh(), second.get(0).nextCookie(), 100);
        assertEquals(List.of("a", "b", "c"), names(rest).stream().sorted().toList());
        List<DirEntry> tail = readdir(d, h.fh(), rest.get(0).nextCookie(), 100);
        assertEquals(names(rest).subList(1, 3), names(tail));
        fs.releasedir(ROOT, d, h.fh());
        // a subdirectory's ".." is its parent's node id
        long sub = fs.mkdir(ROOT, ROOT_ID, FileName.literal("sub"), 0755, 0).nodeId();
        long subsub = fs.mkdir(ROOT, sub, FileName.literal("subsub"), 0755, 0).nodeId();
        OpenResult hs = fs.opendir(ROOT, subsub, 0);
        List<DirEntry> dots = readdir(subsub, hs.fh(), 0, 100);
        assertEquals(List.of(".", ".."), names(dots));
        assertEquals(subsub, dots.get(0).ino());
        assertEquals(sub, dots.get(1).ino());
        fs.releasedir(ROOT, subsub, hs.fh());
    }

    @Test
    void aKillRequestWithoutASizeClearsSuidAndGroupExecutableSgid() throws Exception {
        CreateResult c = fs.create(ROOT, ROOT_ID, FileName.literal("s"), 06755, OpenFlags.O_RDWR, 0);
        Path host = source.resolve("s");
        SetAttr kill = new SetAttr(null, null, null, null, null, false, null, false, null, c.open().fh(), true);
        fs.setattr(ROOT, c.entry().nodeId(), kill);
        assertEquals(0100755, Files.getAttribute(host, "unix:mode", LinkOption.NOFOLLOW_LINKS));
        // sgid without group execute marks mandatory locking, not privilege: it stays, as Linux keeps it
        fs.setattr(ROOT, c.entry().nodeId(), SetAttr.mode(06745));
        fs.setattr(ROOT, c.entry().nodeId(), kill);
        assertEquals(0102745, Files.getAttribute(host, "unix:mode", LinkOption.NOFOLLOW_LINKS));
        fs.release(ROOT, c.entry().nodeId(), c.open().fh(), 0, 0);
    }

    @Test
    void getlkNamesTheGuestProcessHoldingTheLock() throws Exception {
        CreateResult c = fs.create(ROOT, ROOT_ID, FileName.literal("l"), 0644, OpenFlags.O_RDWR, 0);
        long node = c.entry().nodeId();
        OpenResult other = fs.open(ROOT, node, OpenFlags.O_RDWR);
        fs.setlk(ROOT, node, c.open().fh(), new Lock(Lock.F_WRLCK, 0, 9, 111, 4242), false, false);
        fs.setlk(ROOT, node, other.fh(), new Lock(Lock.F_RDLCK, 100, 109, 222, 5151), false, false);
        Lock seenBy333 = fs.getlk(ROOT, node, other.fh(), new Lock(Lock.F_RDLCK, 5, 5, 333, 6000));
        assertEquals(Lock.F_WRLCK, seenBy333.type());
        assertEquals(4242, seenBy333.pid());
        Lock readHolder = fs.getlk(ROOT, node, other.fh(), new Lock(Lock.F_WRLCK, 100, 100, 111, 4242));
        assertEquals(Lock.F_RDLCK, readHolder.type());
        assertEquals(5151, readHolder.pid());
        assertEquals(Lock.F_UNLCK, fs.getlk(ROOT, node, other.fh(), new Lock(Lock.F_WRLCK, 0, 9, 111, 4242)).type());
        fs.release(ROOT, node, other.fh(), 0, 222);
        fs.release(ROOT, node, c.open().fh(), 0, 111);
    }
}
