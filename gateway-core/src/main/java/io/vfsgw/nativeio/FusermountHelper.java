package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.types.ssize_t;

/**
 * Mounting without root, libfuse's way: run the setuid {@code fusermount3} with one end of a
 * socketpair as {@code _FUSE_COMMFD}; it opens /dev/fuse, mounts, and sends the fd back with
 * SCM_RIGHTS. Java's ProcessBuilder closes every inherited fd, so the child is started with
 * posix_spawn and the socket becomes its stdin (_FUSE_COMMFD=0).
 */
public final class FusermountHelper {
    /** The libc calls of this family only. */
    public interface Libc {
        int socketpair(int domain, int type, int protocol, int[] sv);

        @ssize_t long recvmsg(int fd, Pointer msg, int flags);

        int posix_spawn_file_actions_init(Pointer actions);

        int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newfd);

        int posix_spawn_file_actions_destroy(Pointer actions);

        int posix_spawn(IntByReference pid, String path, Pointer actions, Pointer attr, Pointer argv, Pointer envp);

        int waitpid(int pid, IntByReference status, int options);

        int close(int fd);
    }

    /** glibc 2.34+; without it the child merely inherits our non-CLOEXEC fds until it exits. */
    public interface CloseFrom {
        int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);
    }

    static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final CloseFrom CLOSE_FROM = loadCloseFrom();
    private static final Runtime RT = Runtime.getRuntime(LIBC);

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    // x86_64/aarch64 LP64 layouts: struct msghdr 56 bytes, struct iovec 16, cmsghdr 16 + CMSG_SPACE(int) = 24.
    private static final int MSGHDR_SIZE = 56;
    private static final int CMSG_SPACE_INT = 24;

    private FusermountHelper() {
    }

    private static CloseFrom loadCloseFrom() {
        try {
            return Native.loadLibc(CloseFrom.class);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }

    /**
     * Whether fusermount3 lets users other than root mount with allow_other: /etc/fuse.conf has
     * a {@code user_allow_other} line (comments and blanks aside).
     */
    public static boolean userAllowOther() {
        return userAllowOther(Path.of("/etc/fuse.conf"));
    }

    static boolean userAllowOther(Path fuseConf) {
        try (var lines = Files.lines(fuseConf)) {
            return lines.map(l -> l.replaceFirst("#.*", "").strip()).anyMatch("user_allow_other"::equals);
        } catch (IOException | UncheckedIOException e) {
            return false;   // no readable fuse.conf: fusermount3 refuses allow_other too
        }
    }

    /** The fusermount3 executable on PATH, or null. */
    public static String findFusermount() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/bin:/bin").split(":")) {
            File f = new File(dir.isEmpty() ? "." : dir, "fusermount3");
            if (f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return null;
    }

    /**
     * Runs {@code fusermount3 -o OPTIONS -- MOUNTPOINT} and returns the mounted /dev/fuse fd it
     * sends back. fusermount3 reports its own errors on our stderr.
     *
     * @throws FsException ENOENT (no fusermount3), EIO (it failed: bad option, not allowed,
     *                     mount point refused), or the errno of socketpair/posix_spawn/recvmsg
     */
    public static FuseDevice mount(String mountPoint, String options) throws FsException {
        String fusermount = findFusermount();
        if (fusermount == null) {
            throw FsException.of(Errno.ENOENT, "fusermount3 not found on PATH; install the fuse3 package or run as root");
        }
        int[] sv = new int[2];
        if (LIBC.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            throw Native.failure(LIBC, "socketpair");
        }
        int pid;
        try {
            pid = spawn(fusermount, List.of(fusermount, "-o", options, "--", mountPoint), sv[1]);
        } catch (FsException e) {
            LIBC.close(sv[0]);
            LIBC.close(sv[1]);
            throw e;
        }
        LIBC.close(sv[1]); // only the child holds it now, so its exit means EOF for us
        try {
            int fd = receiveFd(sv[0]);
            int status = waitFor(pid);
            if (fd < 0) {
                throw FsException.of(Errno.EIO, "fusermount3 could not mount " + mountPoint
                        + " (" + describeWaitStatus(status) + "; see its message above)");
            }
            return FuseDevice.adopt(fd);
        } finally {
            LIBC.close(sv[0]);
        }
    }

    /** posix_spawn with {@code commFd} as the child's stdin and _FUSE_COMMFD=0; other fds closed. */
    private static int spawn(String path, List<String> argv, int commFd) throws FsException {
        Pointer actions = Memory.allocateDirect(RT, 256); // posix_spawn_file_actions_t is 80 bytes in glibc
        LIBC.posix_spawn_file_actions_init(actions);
        try {
            LIBC.posix_spawn_file_actions_adddup2(actions, commFd, 0);
            if (CLOSE_FROM != null) {
                CLOSE_FROM.posix_spawn_file_actions_addclosefrom_np(actions, 3);
            }
            List<String> env = new ArrayList<>();
            for (Map.Entry<String, String> e : System.getenv().entrySet()) {
                if (!e.getKey().equals("_FUSE_COMMFD")) {
                    env.add(e.getKey() + "=" + e.getValue());
                }
            }
            env.add("_FUSE_COMMFD=0");
            IntByReference pid = new IntByReference();
            List<Pointer> keepAlive = new ArrayList<>();
            Pointer argvArray = cStringArray(argv, keepAlive);
            Pointer envArray = cStringArray(env, keepAlive);
            int err = LIBC.posix_spawn(pid, path, actions, null, argvArray, envArray);
            java.lang.ref.Reference.reachabilityFence(keepAlive);
            if (err != 0) {
                throw FsException.of(Errno.fromCode(err), "posix_spawn " + path + " (errno " + err + ")");
            }
            return pid.intValue();
        } finally {
            LIBC.posix_spawn_file_actions_destroy(actions);
        }
    }

    /** A NULL-terminated char*[] (argv/envp); the strings stay reachable through {@code keepAlive}. */
    private static Pointer cStringArray(List<String> strings, List<Pointer> keepAlive) {
        Pointer array = Memory.allocateDirect(RT, (strings.size() + 1) * 8);
        for (int i = 0; i < strings.size(); i++) {
            byte[] bytes = strings.get(i).getBytes(StandardCharsets.UTF_8);
            Pointer s = Memory.allocateDirect(RT, bytes.length + 1);
            s.put(0, bytes, 0, bytes.length);
            s.putByte(bytes.length, (byte) 0);
            array.putAddress(i * 8L, s.address());
            keepAlive.add(s);
        }
        array.putAddress(strings.size() * 8L, 0L);
        keepAlive.add(array);
        return array;
    }

    /** One recvmsg of 1 byte plus an SCM_RIGHTS fd; -1 when the peer closed without sending one. */
    private static int receiveFd(int socket) throws FsException {
        Pointer data = Memory.allocateDirect(RT, 8);
        Pointer iov = Memory.allocateDirect(RT, 16);
        Pointer control = Memory.allocateDirect(RT, CMSG_SPACE_INT);
        Pointer msg = Memory.allocateDirect(RT, MSGHDR_SIZE);
        iov.putAddress(0, data.address());
        iov.putLong(8, 1);
        for (int i = 0; i < MSGHDR_SIZE; i += 8) {
            msg.putLong(i, 0);
        }
        msg.putAddress(16, iov.address()); // msg_iov
        msg.putLong(24, 1);                // msg_iovlen
        msg.putAddress(32, control.address());
        msg.putLong(40, CMSG_SPACE_INT);   // msg_controllen
        long n;
        do {
            n = LIBC.recvmsg(socket, msg, MSG_CMSG_CLOEXEC);
        } while (n < 0 && Native.lastErrno(LIBC) == Errno.EINTR.code());
        if (n < 0) {
            throw Native.failure(LIBC, "recvmsg from fusermount3");
        }
        long controlLength = msg.getLong(40);
        // SAFETY: we read only inside the 24-byte control buffer, and only if the kernel filled a cmsghdr.
        if (n == 0 || controlLength < 20 || control.getInt(8) != SOL_SOCKET || control.getInt(12) != SCM_RIGHTS) {
            return -1;
        }
        return control.getInt(16);
    }

    /** waitpid's status word as a person reads it: "exit status 1", "killed by signal 9". */
    static String describeWaitStatus(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? "exit status " + ((status >> 8) & 0xff) : "killed by signal " + signal;
    }

    private static int waitFor(int pid) {
        IntByReference status = new IntByReference();
        while (LIBC.waitpid(pid, status, 0) < 0 && Native.lastErrno(LIBC) == Errno.EINTR.code()) {
            // retry: a signal arrived while we waited
        }
        return status.intValue();
    }
}
