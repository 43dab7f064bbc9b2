package io.vfsgw.nativeio;

/** Process credentials (getuid/geteuid/getgid): who we mount as. */
public final class Processes {
    /** The libc calls of this family only; none of them can fail. */
    public interface Libc {
        int getuid();

        int geteuid();

        int getgid();

        int getpid();
    }

    static final Libc LIBC = Native.loadLibc(Libc.class);

    private Processes() {
    }

    public static int uid() {
        return LIBC.getuid();
    }

    public static int effectiveUid() {
        return LIBC.geteuid();
    }

    public static int gid() {
        return LIBC.getgid();
    }

    public static int pid() {
        return LIBC.getpid();
    }

    public static boolean isRoot() {
        return effectiveUid() == 0;
    }
}
