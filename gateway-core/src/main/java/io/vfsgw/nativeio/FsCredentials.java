package io.vfsgw.nativeio;

import io.vfsgw.spi.FsException;
import jnr.ffi.annotations.IgnoreError;

/**
 * Per-thread filesystem credentials. Linux keeps fsuid/fsgid, umask and cwd per task, so a worker
 * thread can create files as the guest's caller without touching other threads: setfsuid/setfsgid
 * (glibc's wrappers are plain syscalls, not the process-wide setxid broadcast of setuid), and
 * unshare(CLONE_FS) to give the thread its own umask.
 *
 * <p>A new thread inherits its creator's credentials: never start a thread inside a {@link Scope}.
 */
public final class FsCredentials {
    /** jnr-ffi binding; public only because jnr generates its implementation in another class loader. */
    public interface Libc {
        @IgnoreError
        int setfsuid(int uid);

        @IgnoreError
        int setfsgid(int gid);

        int unshare(int flags);

        @IgnoreError
        int umask(int mask);
    }

    private static final int CLONE_FS = 0x200;
    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final ThreadLocal<Boolean> PRIVATE_FS = ThreadLocal.withInitial(() -> false);

    private FsCredentials() {
    }

    /** Restores the thread's previous fsuid/fsgid on close. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Nothing to restore: the caller already runs with the wanted credentials. */
    private static final Scope NONE = () -> { };

    /**
     * Switches this thread's fsuid/fsgid to {@code uid}/{@code gid} until the scope closes. Switching
     * away from 0 also drops CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID... for this thread, so the host
     * kernel treats the calls as the caller's. Returns a no-op scope when both are already current.
     */
    public static Scope become(int uid, int gid) {
        int oldGid = LIBC.setfsgid(gid);
        int oldUid = LIBC.setfsuid(uid);
        if (oldUid == uid && oldGid == gid) {
            return NONE;
        }
        return () -> {
            LIBC.setfsuid(oldUid);
            LIBC.setfsgid(oldGid);
        };
    }

    /** This thread's current fsuid (setfsuid(-1) changes nothing and returns it). */
    public static int currentFsUid() {
        return LIBC.setfsuid(-1);
    }

    public static int currentFsGid() {
        return LIBC.setfsgid(-1);
    }

    /**
     * Once per thread: gives the calling thread its own fs struct (unshare(CLONE_FS)) and a umask of
     * 0, so modes the guest sent (its umask already applied) reach the host unchanged, without
     * changing the umask of the rest of the JVM.
     */
    public static void privateUmaskZero() throws FsException {
        if (PRIVATE_FS.get()) {
            return;
        }
        if (LIBC.unshare(CLONE_FS) < 0) {
            throw Native.failure(LIBC, "unshare(CLONE_FS)");
        }
        LIBC.umask(0);
        PRIVATE_FS.set(true);
    }

    /** The calling thread's umask (reads it by setting and restoring). */
    public static int currentUmask() {
        int m = LIBC.umask(022);
        LIBC.umask(m);
        return m;
    }
}
