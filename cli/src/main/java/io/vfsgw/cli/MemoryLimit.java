package io.vfsgw.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The memory this process may use: the smaller of the machine's MemTotal and its cgroup v2 memory.max. */
final class MemoryLimit {
    private MemoryLimit() {
    }

    static long bytes() {
        long limit = Long.MAX_VALUE;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    limit = Long.parseLong(l.replaceAll("\\D+", "")) * 1024;
                }
            }
            List<String> groups = Files.readAllLines(Path.of("/proc/self/cgroup"));
            for (String g : groups) {
                if (g.startsWith("0::")) {
                    Path max = Path.of("/sys/fs/cgroup", g.substring(3), "memory.max");
                    if (Files.isReadable(max)) {
                        String v = Files.readString(max).trim();
                        if (!v.equals("max")) {
                            limit = Math.min(limit, Long.parseLong(v));
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // Not Linux-shaped /proc or /sys: no limit we can tell, let the backend's own ENOSPC decide.
        }
        return limit;
    }
}
