package io.vfsgw.transport.devfuse;

import java.time.Duration;

/**
 * How a /dev/fuse host mount is made and served.
 *
 * @param workerThreads      reader threads, each with its own cloned /dev/fuse fd (1..64). An
 *                           asynchronous reply holds its worker until it completes, so keep at
 *                           least 2 for INTERRUPT to get through while a request is pending.
 * @param maxWrite           the largest WRITE payload the session may announce in INIT
 *                           (fuse_init_out.max_write); every request and reply buffer is
 *                           {@code maxWrite + 4096} bytes. READ replies must also fit, so the
 *                           session must keep {@code max_pages * 4096 <= maxWrite}.
 * @param allowNonEmpty      mount over a directory that has entries (hiding them)
 * @param allowOther         let users other than the mounting one in (mount option allow_other)
 * @param defaultPermissions let the kernel check modes against the attributes we return
 *                           (default_permissions); off means the session checks access itself
 * @param readOnly           mount read-only (MS_RDONLY)
 * @param fsName             the mount source shown by mount(8) and df, e.g. "vfsgw" or "vfsgw:bucket"
 * @param unmountGrace       how long close() waits for the workers after unmounting before it
 *                           aborts the connection
 * @param watchdog           start the child process that lazily unmounts if this JVM is killed
 * @param mountMethod        mount(2) directly (root) or through fusermount3 (ordinary users)
 */
public record MountOptions(int workerThreads, int maxWrite, boolean allowNonEmpty, boolean allowOther,
                           boolean defaultPermissions, boolean readOnly, String fsName,
                           Duration unmountGrace, boolean watchdog, MountMethod mountMethod) {
    /** How the mount is made. */
    public enum MountMethod {
        /** mount(2) when root, fusermount3 otherwise. */
        AUTO,
        /** mount(2); needs CAP_SYS_ADMIN. */
        SYSCALL,
        /** the setuid fusermount3 helper from the fuse3 package, libfuse's protocol. */
        FUSERMOUNT
    }

    /** One MiB, what virtiofsd and libfuse negotiate with max_pages 256. */
    public static final int DEFAULT_MAX_WRITE = 1 << 20;
    /** Room for the in-header and the largest request header before a WRITE's data. */
    public static final int HEADER_ROOM = 4096;

    public MountOptions {
        if (workerThreads < 1 || workerThreads > 64) {
            throw new IllegalArgumentException("workerThreads must be 1..64, got " + workerThreads);
        }
        if (maxWrite < 4096 || maxWrite > (16 << 20) || maxWrite % 4096 != 0) {
            throw new IllegalArgumentException("maxWrite must be a multiple of 4096 in 4 KiB..16 MiB, got " + maxWrite);
        }
        if (fsName == null || fsName.isEmpty() || !fsName.matches("[A-Za-z0-9._:@/+=-]+")) {
            throw new IllegalArgumentException("fsName must be non-empty without spaces or commas, got '" + fsName + "'");
        }
        if (mountMethod == null) {
            throw new IllegalArgumentException("mountMethod must be set");
        }
        if (unmountGrace == null || unmountGrace.isNegative()) {
            throw new IllegalArgumentException("unmountGrace must be >= 0");
        }
    }

    /** 4 workers, 1 MiB max_write, empty mount point only, allow_other, default_permissions, watchdog, AUTO. */
    public static MountOptions defaults() {
        return new MountOptions(4, DEFAULT_MAX_WRITE, false, true, true, false, "vfsgw", Duration.ofSeconds(5), true,
                MountMethod.AUTO);
    }

    /** Size of every per-worker request and reply buffer. */
    public int bufferSize() {
        return Math.max(maxWrite + HEADER_ROOM, 8192);
    }

    public MountOptions withWorkerThreads(int n) {
        return new MountOptions(n, maxWrite, allowNonEmpty, allowOther, defaultPermissions, readOnly, fsName,
                unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withMaxWrite(int bytes) {
        return new MountOptions(workerThreads, bytes, allowNonEmpty, allowOther, defaultPermissions, readOnly,
                fsName, unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withAllowNonEmpty(boolean allow) {
        return new MountOptions(workerThreads, maxWrite, allow, allowOther, defaultPermissions, readOnly, fsName,
                unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withAllowOther(boolean allow) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allow, defaultPermissions, readOnly, fsName,
                unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withDefaultPermissions(boolean on) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allowOther, on, readOnly, fsName,
                unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withReadOnly(boolean on) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allowOther, defaultPermissions, on, fsName,
                unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withFsName(String name) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allowOther, defaultPermissions, readOnly,
                name, unmountGrace, watchdog, mountMethod);
    }

    public MountOptions withUnmountGrace(Duration grace) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allowOther, defaultPermissions, readOnly,
                fsName, grace, watchdog, mountMethod);
    }

    public MountOptions withWatchdog(boolean on) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allowOther, defaultPermissions, readOnly,
                fsName, unmountGrace, on, mountMethod);
    }

    public MountOptions withMountMethod(MountMethod method) {
        return new MountOptions(workerThreads, maxWrite, allowNonEmpty, allowOther, defaultPermissions, readOnly,
                fsName, unmountGrace, watchdog, method);
    }
}
