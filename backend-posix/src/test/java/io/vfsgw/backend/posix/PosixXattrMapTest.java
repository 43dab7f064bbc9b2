package io.vfsgw.backend.posix;

import static io.vfsgw.spi.StorageBackend.ROOT_ID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** --xattrmap and --posix-acl through the backend, checked on the host file's real xattrs. */
class PosixXattrMapTest {
    static final RequestContext ROOT = RequestContext.ROOT;
    static final RequestContext USER = new RequestContext(1000, 1000, 4242);

    @TempDir
    Path src;

    static Errno errno(Executable e) {
        return assertThrows(FsException.class, e).errno();
    }

    static List<String> hostUserXattrs(Path f) throws Exception {
        return Files.getFileAttributeView(f, UserDefinedFileAttributeView.class).list();
    }

    static String hostUserXattr(Path f, String name) throws Exception {
        var view = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
        ByteBuffer b = ByteBuffer.allocate(view.size(name));
        view.read(name, b);
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    @Test
    void everythingUnderUserVirtiofs() throws Exception {
        Path f = Files.createFile(src.resolve("f"));
        Files.getFileAttributeView(f, UserDefinedFileAttributeView.class)
                .write("hostonly", ByteBuffer.wrap("h".getBytes()));
        PosixOptions o = PosixOptions.of(src).withXattrMap(XattrMap.parse(":prefix:all::user.virtiofs.::bad:all:::"));
        try (PosixBackend fs = PosixBackend.open(o)) {
            long n = fs.lookup(ROOT, ROOT_ID, FileName.literal("f")).nodeId();
            // guest root labels the file; on the host it is a plain user.* xattr
            fs.setxattr(ROOT, n, "security.selinux", "system_u:object_r:x_t:s0".getBytes(), 0);
            fs.setxattr(USER, n, "user.color", "blue".getBytes(), 0);
            assertEquals(List.of("virtiofs.security.selinux", "virtiofs.user.color").stream().sorted().toList(),
                    hostUserXattrs(f).stream().filter(s -> !s.equals("hostonly")).sorted().toList());
            assertEquals("blue", hostUserXattr(f, "virtiofs.user.color"));
            assertArrayEquals("system_u:object_r:x_t:s0".getBytes(), fs.getxattr(USER, n, "security.selinux"));
            // the host's own user.hostonly is hidden from the guest, mapped names show unprefixed
            assertEquals(List.of("security.selinux", "user.color"), fs.listxattr(USER, n).stream().sorted().toList());
            fs.removexattr(USER, n, "user.color");
            assertEquals(List.of("hostonly", "virtiofs.security.selinux"), hostUserXattrs(f).stream().sorted().toList());
            assertEquals(Errno.ENODATA, errno(() -> fs.getxattr(USER, n, "user.color")));
        }
    }

    @Test
    void badAndUnsupportedNamesAreRefusedAndAMapCannotReachTrusted() throws Exception {
        Path f = Files.createFile(src.resolve("f"));
        PosixOptions o = PosixOptions.of(src).withXattrMap(XattrMap.parse(
                "/bad/all/security./security./ /unsupported/client/system.// /prefix/all/user.t./trusted./ /ok/all///"));
        try (PosixBackend fs = PosixBackend.open(o)) {
            long n = fs.lookup(ROOT, ROOT_ID, FileName.literal("f")).nodeId();
            assertEquals(Errno.EPERM, errno(() -> fs.setxattr(ROOT, n, "security.capability", new byte[20], 0)));
            assertEquals(Errno.ENODATA, errno(() -> fs.getxattr(ROOT, n, "security.capability")),
                    "virtiofsd: refused names simply do not exist for getxattr");
            assertEquals(Errno.EOPNOTSUPP, errno(() -> fs.setxattr(ROOT, n, "system.foo", new byte[1], 0)));
            // user.t.x would be trusted.user.t.x on the host: only root may do that
            assertEquals(Errno.EPERM, errno(() -> fs.setxattr(USER, n, "user.t.x", new byte[] {1}, 0)));
            fs.setxattr(ROOT, n, "user.t.x", new byte[] {1}, 0);
            assertEquals(List.of("user.t.x"), fs.listxattr(ROOT, n));
            assertEquals(Errno.ENODATA, errno(() -> fs.getxattr(USER, n, "user.t.x")));
            assertEquals(List.of(), fs.listxattr(USER, n));
        }
    }

    @Test
    void posixAclXattrsNeedTheSwitch() throws Exception {
        Path d = Files.createDirectory(src.resolve("d"));
        // a minimal valid ACL: version 2, USER_OBJ rwx, GROUP_OBJ r-x, OTHER r-x (8 bytes per entry)
        byte[] acl = aclBytes(new int[][] {{0x01, 7}, {0x04, 5}, {0x20, 5}});
        try (PosixBackend off = PosixBackend.open(PosixOptions.of(src))) {
            long n = off.lookup(ROOT, ROOT_ID, FileName.literal("d")).nodeId();
            assertEquals(Errno.EOPNOTSUPP, errno(() -> off.setxattr(ROOT, n, PosixBackend.ACL_DEFAULT, acl, 0)));
            assertEquals(Errno.EOPNOTSUPP, errno(() -> off.getxattr(ROOT, n, PosixBackend.ACL_ACCESS)));
        }
        try (PosixBackend on = PosixBackend.open(PosixOptions.of(src).withPosixAcl(true))) {
            long n = on.lookup(ROOT, ROOT_ID, FileName.literal("d")).nodeId();
            on.setxattr(ROOT, n, PosixBackend.ACL_DEFAULT, acl, 0);
            assertEquals(List.of(PosixBackend.ACL_DEFAULT), on.listxattr(ROOT, n));
            assertArrayEquals(acl, on.getxattr(ROOT, n, PosixBackend.ACL_DEFAULT));
            Process p = new ProcessBuilder("getfacl", "-cd", d.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            assertEquals(List.of("user::rwx", "group::r-x", "other::r-x"), out.lines().filter(s -> !s.isBlank()).toList());
        }
    }

    static byte[] aclBytes(int[][] entries) {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * entries.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int[] e : entries) {
            b.putShort((short) e[0]).putShort((short) e[1]).putInt(-1);
        }
        return b.array();
    }
}
