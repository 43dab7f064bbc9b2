package io.vfsgw.transport.devfuse;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libfuse's auto_unmount for a JVM: a tiny shell child that lazily unmounts the mount point when
 * this JVM dies without unmounting (SIGKILL, the OOM killer), so no dead "Transport endpoint is not
 * connected" mount is left behind.
 *
 * <p>The child blocks reading its stdin, a pipe whose write end only this JVM holds (Java closes
 * every other fd in children it starts). At JVM death the pipe hits EOF and the child unmounts; a
 * clean {@link #stop()} sends "done" first, so the child exits without touching the mount. The
 * child ignores SIGINT/SIGTERM/SIGHUP, so a Ctrl-C sent to the whole process group leaves it to do
 * its job. It does not survive a kill of the whole cgroup (systemd KillMode=control-group).
 * The mount point travels as an argument, never inside the script text, so any path is safe.
 */
final class UnmountWatchdog {
    private static final Logger LOG = LoggerFactory.getLogger(UnmountWatchdog.class);
    private static final String SCRIPT =
            "trap '' INT TERM HUP; read -r line; [ \"$line\" = done ] && exit 0; exec \"$@\"";

    private final Process process;

    private UnmountWatchdog(Process process) {
        this.process = process;
    }

    /** Starts the child; {@code unmountCommand} is run (path included) if the JVM dies first. */
    static UnmountWatchdog start(List<String> unmountCommand) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("/bin/sh", "-c", SCRIPT, "vfsgw-unmount-watchdog"));
        cmd.addAll(unmountCommand);
        Process p = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        return new UnmountWatchdog(p);
    }

    long pid() {
        return process.pid();
    }

    /** Tells the child the mount was taken down cleanly; it exits without unmounting. */
    void stop() {
        try (OutputStream in = process.getOutputStream()) {
            in.write("done\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            LOG.debug("watchdog {} already gone: {}", process.pid(), e.getMessage());
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                LOG.warn("unmount watchdog {} did not exit; killing it", process.pid());
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
