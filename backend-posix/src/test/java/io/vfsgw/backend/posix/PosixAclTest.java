package io.vfsgw.backend.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.cache.CacheConfig;
import io.vfsgw.cache.MetadataCache;
import io.vfsgw.fuse.CreateIn;
import io.vfsgw.fuse.InitFlags;
import io.vfsgw.fuse.InitOut;
import io.vfsgw.fuse.MkdirIn;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.session.FuseHarness;
import io.vfsgw.session.FuseSession;
import io.vfsgw.session.SessionConfig;
import io.vfsgw.spi.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --posix-acl end to end below the guest kernel: INIT takes FUSE_POSIX_ACL with FUSE_DONT_MASK, and
 * creation then applies the umask the request carries, or the parent's default ACL instead of it.
 */
class PosixAclTest {
    @TempDir
    Path src;
    MetadataCache cache;
    FuseSession session;
    FuseHarness fuse;

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    static int mode(Path p) throws Exception {
        return (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @BeforeEach
    void setUp() {
        PosixBackend backend = PosixBackend.open(PosixOptions.of(src).withPosixAcl(true));
        cache = new MetadataCache(backend, CacheConfig.defaults());
        SessionConfig base = SessionConfig.defaults("test");
        session = new FuseSession(cache, base.withInitPolicy(base.initPolicy().withPosixAcl(true)));
        fuse = FuseHarness.over(session);
    }

    @AfterEach
    void tearDown() throws Exception {
        session.close();
        cache.close();
    }

    long mkdir(long parent, String name, int mode, int umask) {
        return fuse.request(Opcode.MKDIR, parent, FuseHarness.args(new MkdirIn(mode, umask), FuseHarness.names(name)))
                .expectOk().getLong(0);
    }

    @Test
    void theUmaskIsOursAndADefaultAclReplacesIt() throws Exception {
        InitOut init = fuse.init();
        assertTrue((init.flags64() & InitFlags.FUSE_POSIX_ACL) != 0, InitFlags.describe(init.flags64()));
        assertTrue((init.flags64() & InitFlags.FUSE_DONT_MASK) != 0, InitFlags.describe(init.flags64()));

        // no default ACL: the unmasked 0777 with umask 027 is 0750 on the host
        long plain = mkdir(StorageBackend.ROOT_ID, "plain", 0777, 027);
        assertEquals(0750, mode(src.resolve("plain")));
        fuse.request(Opcode.CREATE, plain, FuseHarness.args(new CreateIn(0101, 0666, 022, 0),
                FuseHarness.names("f"))).expectOk(); // O_WRONLY|O_CREAT
        assertEquals(0644, mode(src.resolve("plain/f")));

        // a default ACL on the parent: the host inherits it and ignores the umask
        Path shared = Files.createDirectory(src.resolve("shared"));
        run("setfacl", "-d", "-m", "u::rwx,g::rwx,o::rwx", shared.toString());
        long sharedNode = fuse.lookup(StorageBackend.ROOT_ID, "shared").nodeid();
        mkdir(sharedNode, "sub", 0777, 077);
        assertEquals(0777, mode(shared.resolve("sub")), "the default ACL, not the umask 077, decides");
        assertEquals(List.of("user::rwx", "group::rwx", "other::rwx"),
                run("getfacl", "-cd", shared.resolve("sub").toString()).lines().filter(s -> !s.isBlank()).toList(),
                "the new directory inherits the default ACL");

        // the ACL xattrs themselves go through SETXATTR/GETXATTR to the host
        FuseHarness.HarnessReply r = fuse.getxattr(sharedNode, "system.posix_acl_default", 0);
        assertTrue(FuseHarness.getxattrSize(r) > 4, "the default ACL is visible to the guest kernel");
    }

    @Test
    void withoutThePolicyTheKernelKeepsTheUmask() throws Exception {
        SessionConfig plain = SessionConfig.defaults("test");
        try (FuseSession s = new FuseSession(cache, plain)) {
            FuseHarness f = FuseHarness.over(s);
            InitOut init = f.init();
            assertEquals(0, init.flags64() & (InitFlags.FUSE_POSIX_ACL | InitFlags.FUSE_DONT_MASK),
                    InitFlags.describe(init.flags64()));
        }
    }
}
