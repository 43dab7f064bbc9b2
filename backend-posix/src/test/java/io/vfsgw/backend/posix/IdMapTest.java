package io.vfsgw.backend.posix;

import static io.vfsgw.spi.StorageBackend.ROOT_ID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdMapTest {
    @TempDir
    Path src;

    @Test
    void parseAndTranslate() throws Exception {
        IdMap m = IdMap.parse(List.of("0:100000:1000", "1000:1000:1"));
        assertEquals(100000, m.toHost(0));
        assertEquals(100999, m.toHost(999));
        assertEquals(1000, m.toHost(1000));
        assertEquals(Errno.EPERM, assertThrows(FsException.class, () -> m.toHost(1001)).errno());
        assertEquals(5, m.toGuest(100005));
        assertEquals(IdMap.OVERFLOW_ID, m.toGuest(0)); // host root is nobody to the guest
        assertEquals(7, IdMap.IDENTITY.toHost(7));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdMap.parse(List.of("1:2")));
        assertTrue(e.getMessage().contains("GUEST:HOST:COUNT"));
        assertThrows(IllegalArgumentException.class, () -> IdMap.parse(List.of("0:0:0")));
    }

    @Test
    void virtiofsdsColonWrappedSpellingMeansTheSame() throws Exception {
        assertEquals(IdMap.parse(List.of("0:100000:65536")), IdMap.parse(List.of(":0:100000:65536:")));
        assertThrows(IllegalArgumentException.class, () -> IdMap.parse(List.of(":0:100000:65536")));
    }

    @Test
    void backendTranslatesOwnersBothWays() throws Exception {
        Files.setAttribute(src, "unix:mode", 0777);
        IdMap uids = IdMap.parse(List.of("0:100000:65536"));
        IdMap gids = IdMap.parse(List.of("0:200000:65536"));
        try (PosixBackend fs = PosixBackend.open(PosixOptions.of(src).withIdMaps(uids, gids))) {
            RequestContext guestRoot = RequestContext.ROOT;
            CreateResult c = fs.create(guestRoot, ROOT_ID, FileName.literal("f"), 0644, OpenFlags.O_RDWR, 0);
            Path f = src.resolve("f");
            assertEquals(100000, Files.getAttribute(f, "unix:uid"));
            assertEquals(200000, Files.getAttribute(f, "unix:gid"));
            assertEquals(0, c.entry().attr().uid()); // guest root sees its own file
            fs.setattr(guestRoot, c.entry().nodeId(), SetAttr.owner(1000, 1000));
            assertEquals(101000, Files.getAttribute(f, "unix:uid"));
            assertEquals(201000, Files.getAttribute(f, "unix:gid"));
            Files.createFile(src.resolve("hostroot"));
            assertEquals(IdMap.OVERFLOW_ID, fs.lookup(guestRoot, ROOT_ID, FileName.literal("hostroot")).attr().uid());
            assertEquals(Errno.EPERM, assertThrows(FsException.class,
                    () -> fs.setattr(guestRoot, c.entry().nodeId(), SetAttr.owner(70000, null))).errno());
            assertEquals(0, Files.getAttribute(src.resolve("hostroot"), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        }
    }
}
