package io.vfsgw.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.Opcode;
import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real guest kernel mounts vfsgw's mem backend over vhost-user and runs
 * testing/guest/workloads/fs-workload.sh: every FUSE operation the 6.1 guest issues on a virtiofs
 * mount (create, read, write, setattr, links, renames with flags, special files, xattrs, lseek,
 * copy_file_range, shared mmap, fsync/fsyncdir/syncfs, statfs, POSIX and BSD locks) and the errnos of
 * the usual mistakes. Then the test checks, through the SPI, that the guest's writes are in the backend.
 */
class GuestWorkloadIT {

    /**
     * What a 6.1 guest sends for this workload. Not here: BMAP (block devices only), IOCTL and POLL
     * (not issued for regular files on virtiofs), INTERRUPT (only if a request is interrupted),
     * SETUPMAPPING/REMOVEMAPPING (DAX: no window in QEMU 7.2), TMPFILE/STATX (newer kernels), and
     * BATCH_FORGET (the 6.1 kernel sends single FORGETs when drop_caches evicts inodes).
     */
    static final java.util.Set<Opcode> EXPECTED_OPCODES = java.util.EnumSet.of(
            Opcode.INIT, Opcode.LOOKUP, Opcode.GETATTR, Opcode.SETATTR, Opcode.READLINK, Opcode.SYMLINK,
            Opcode.MKNOD, Opcode.MKDIR, Opcode.UNLINK, Opcode.RMDIR, Opcode.RENAME, Opcode.RENAME2, Opcode.LINK,
            Opcode.OPEN, Opcode.READ, Opcode.WRITE, Opcode.STATFS, Opcode.RELEASE, Opcode.FSYNC,
            Opcode.SETXATTR, Opcode.GETXATTR, Opcode.LISTXATTR, Opcode.REMOVEXATTR, Opcode.FLUSH,
            Opcode.OPENDIR, Opcode.READDIRPLUS, Opcode.RELEASEDIR, Opcode.FSYNCDIR, Opcode.GETLK,
            Opcode.SETLK, Opcode.SETLKW, Opcode.CREATE, Opcode.FALLOCATE, Opcode.LSEEK,
            Opcode.COPY_FILE_RANGE, Opcode.SYNCFS, Opcode.FORGET, Opcode.DESTROY);

    @TempDir
    Path dir;

    @Test
    void guestRunsEveryFuseOperation() throws Exception {
        String script = GuestScripts.workload("fs-workload.sh");
        List<String> expected = checkNames(script);
        try (MemGateway gw = MemGateway.start(dir)) {
            Path socket = gw.serve("vfsgw");
            GuestReport r = GuestVm.builder().name("workload").socket(socket).script(script)
                    .qemuArgs(GuestScripts.fsopsQemuArgs())
                    .timeout(Duration.ofSeconds(150)).build().run();
            System.out.printf("GuestWorkloadIT: %d checks, boot %s, total %s%n", r.results().size(),
                    r.bootTime().map(Duration::toString).orElse("?"), r.totalTime());
            List<String> missing = new ArrayList<>();
            for (String name : expected) {
                if (r.result(name).isEmpty()) {
                    missing.add(name);
                }
            }
            assertTrue(missing.isEmpty(), "checks never reported: " + missing + "\n" + r.describe());
            r.assertOk();
            assertEquals(0, r.qemuExit(), "QEMU exit status");
            r.detail("umount:/mnt");

            // What the guest wrote is in the backend, not only in the guest's page cache.
            assertArrayEquals("kept by the guest\n".getBytes(StandardCharsets.UTF_8), gw.read("w/keep.txt"));
            assertEquals(8 << 20, gw.stat("w/big").orElseThrow().size());
            assertEquals(gw.sha256("w/big"), gw.sha256("w/big2"), "copy_file_range copy differs in the backend");
            assertArrayEquals("blue".getBytes(StandardCharsets.UTF_8), gw.getxattr("w/xf", "user.color"));
            assertEquals(0640, gw.stat("w/perm").orElseThrow().mode() & 07777);
            assertEquals(1000, gw.stat("w/perm").orElseThrow().uid());
            assertArrayEquals("written through a shared mapping".getBytes(StandardCharsets.UTF_8), gw.read("w/mm"));
            assertTrue(gw.stat("w/many").isEmpty(), "rm -r many left the directory in the backend");
            GuestScripts.assertFsxResult(r.detail("fsx"), gw.read("w/fsx.dat"));

            // Every operation reached vfsgw (none was answered by the guest kernel alone).
            java.util.Map<Opcode, Long> seen = gw.sessions().get(0).opcodes();
            System.out.println("GuestWorkloadIT: opcodes received " + seen);
            java.util.EnumSet<Opcode> missingOps = java.util.EnumSet.copyOf(EXPECTED_OPCODES);
            missingOps.removeAll(seen.keySet());
            assertTrue(missingOps.isEmpty(), "the workload never made the guest send " + missingOps + "; got " + seen);
        }
    }

    /** The name of every check/expect/fails line of the script: each must report exactly once. */
    static List<String> checkNames(String script) {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^(?:check|expect|fails) (\\S+)").matcher(script);
        while (m.find()) {
            names.add(m.group(1));
        }
        assertTrue(names.size() > 50, "parsed only " + names.size() + " checks from the workload");
        return names;
    }
}
