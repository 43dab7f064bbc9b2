package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Credentials from libc match what the kernel reports in /proc/self/status. */
class ProcessesTest {
    @Test
    void credentialsMatchProcStatus() throws Exception {
        List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
        String[] uids = field(status, "Uid:");
        String[] gids = field(status, "Gid:");
        assertEquals(Integer.parseInt(uids[0]), Processes.uid());
        assertEquals(Integer.parseInt(uids[1]), Processes.effectiveUid());
        assertEquals(Integer.parseInt(gids[0]), Processes.gid());
        assertEquals(ProcessHandle.current().pid(), Processes.pid());
        assertEquals(Processes.effectiveUid() == 0, Processes.isRoot());
    }

    private static String[] field(List<String> status, String name) {
        return status.stream().filter(l -> l.startsWith(name)).findFirst().orElseThrow()
                .substring(name.length()).trim().split("\\s+");
    }
}
