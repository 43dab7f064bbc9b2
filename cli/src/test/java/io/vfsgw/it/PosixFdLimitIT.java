package io.vfsgw.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The posix backend out of file descriptors (the "EMFILE on the host fd table is handled by
 * closing idle fds, not by failing the guest"): a gateway process whose fd limit is cut to 512 while
 * it runs, far below the fd budget it computed at start, must give idle nodes' fds up for file
 * handles so that the guest's open files can have nearly all of them, reading them must not need
 * another fd (the kernel's GETATTR before a read past the attribute timeout is answered from the
 * open file), and close(2) must never fail for lack of an fd.
 */
class PosixFdLimitIT {
    private static final int LIMIT = 512;

    @TempDir
    Path src;

    @Test
    void idleNodesGiveTheirFdsToOpenFiles() throws Exception {
        MountedGateway gw = MountedGateway.separateProcess("--backend", "posix", "--source", src.toString());
        try {
            Shell.run("prlimit", "--pid", String.valueOf(gw.process().pid()), "--nofile=" + LIMIT + ":" + LIMIT).ok();
            String r = Shell.python("""
                    import resource
                    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
                    d = a[0]
                    for i in range(1500):   # 1,500 nodes, each holding an fd while it can
                        with open(f'{d}/f{i}', 'w') as f:
                            f.write(str(i))
                    fds = []
                    try:
                        for i in range(1000):
                            fds.append(os.open(f'{d}/f{i}', os.O_RDONLY))
                    except OSError as e:
                        pass
                    # Past the attribute timeout the kernel asks GETATTR (with the open file's handle)
                    # before each read, while every fd of the gateway is taken by these open files.
                    import time
                    time.sleep(1.5)
                    ok = sum(1 for i, fd in enumerate(fds) if os.pread(fd, 10, 0) == str(i).encode())
                    bad = 0
                    for fd in fds:
                        try:
                            os.close(fd)
                        except OSError:
                            bad += 1
                    print(len(fds), ok, bad, sum(1 for i in range(1500) if os.stat(f'{d}/f{i}').st_size == len(str(i))))
                    """, gw.dir());
            String[] f = r.split(" ");
            int held = Integer.parseInt(f[0]);
            assertTrue(held >= LIMIT * 3 / 4, "open files held at once under a " + LIMIT + "-fd limit: " + held
                    + " (node fds were not given up)\n" + gw.log());
            assertEquals(String.valueOf(held), f[1], "every held file reads its own content");
            assertEquals("0", f[2], "close(2) never fails");
            assertEquals("1500", f[3], "every node still answers stat afterwards");
            assertTrue(gw.log().contains("traded"), "the log says what was given up: " + gw.log());
        } finally {
            gw.close();
        }
    }
}
