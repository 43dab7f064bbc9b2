package io.vfsgw.nativeio;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.util.Arrays;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;

/**
 * File handles (name_to_handle_at / open_by_handle_at) and the mount identity they are tied to
 * (statx's mnt_id and STATX_ATTR_MOUNT_ROOT). A handle names an inode without holding an fd, so a
 * passthrough can keep many more nodes than its fd limit, as virtiofsd's --inode-file-handles does.
 *
 * <p>open_by_handle_at needs CAP_DAC_READ_SEARCH (EPERM otherwise) and opens whatever inode of the
 * mount the handle names, wherever it sits: only ever feed it handles made here from fds already
 * checked to be inside a jail, never bytes from a guest.
 */
public final class FileHandles {
    /** MAX_HANDLE_SZ in linux/exportfs.h: the largest f_handle. */
    public static final int MAX_HANDLE_SZ = 128;
    private static final int STATX_MNT_ID = 0x1000;
    private static final long STATX_ATTR_MOUNT_ROOT = 0x2000;

    /** jnr-ffi binding; public only because jnr generates its implementation in another class loader. */
    public interface Libc {
        int name_to_handle_at(int dirfd, @In byte[] path, Pointer handle, Pointer mountId, int flags);

        int open_by_handle_at(int mountFd, Pointer handle, int flags);

        int statx(int dirfd, @In byte[] path, int flags, int mask, Pointer buf);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final Runtime RT = Runtime.getRuntime(LIBC);
    private static final byte[] EMPTY = {0};
    /** Per-thread scratch: struct file_handle (8 + 128), the mount id, and a struct statx (256). */
    private static final ThreadLocal<Pointer> SCRATCH =
            ThreadLocal.withInitial(() -> Memory.allocateDirect(RT, 512, true));
    private static final int MOUNT_ID_AT = 8 + MAX_HANDLE_SZ;
    private static final int STATX_AT = 256;

    private FileHandles() {
    }

    /**
     * {@code struct file_handle}: 0 handle_bytes u32 | 4 handle_type i32 | 8 f_handle[handle_bytes].
     *
     * @param mountId the mount the handle was made on; open it only with an fd of that mount
     */
    public record FileHandle(int type, byte[] bytes, int mountId) {
        @Override
        public boolean equals(Object o) {
            return o instanceof FileHandle h && h.type == type && h.mountId == mountId && Arrays.equals(h.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(bytes);
        }
    }

    /**
     * name_to_handle_at(fd, "", AT_EMPTY_PATH): the handle of the object {@code fd} (an O_PATH fd is
     * fine) refers to.
     *
     * @throws FsException EOPNOTSUPP when the filesystem cannot make handles
     */
    public static FileHandle of(int fd) throws FsException {
        Pointer p = SCRATCH.get();
        p.putInt(0, MAX_HANDLE_SZ);
        if (LIBC.name_to_handle_at(fd, EMPTY, p, p.slice(MOUNT_ID_AT, 4), PosixFiles.AT_EMPTY_PATH) < 0) {
            throw Native.failure(LIBC, "name_to_handle_at");
        }
        int size = p.getInt(0);
        if (size < 0 || size > MAX_HANDLE_SZ) {
            throw FsException.of(Errno.EOVERFLOW, "file handle of " + size + " bytes");
        }
        byte[] bytes = new byte[size];
        p.get(8, bytes, 0, size);
        return new FileHandle(p.getInt(4), bytes, p.getInt(MOUNT_ID_AT));
    }

    /**
     * open_by_handle_at(2); always adds O_CLOEXEC. {@code mountFd} must be a real (not O_PATH) fd on
     * the handle's mount.
     *
     * @throws FsException EPERM without CAP_DAC_READ_SEARCH, ESTALE when the object is gone
     */
    public static int open(int mountFd, FileHandle h, int flags) throws FsException {
        Pointer p = SCRATCH.get();
        p.putInt(0, h.bytes().length);
        p.putInt(4, h.type());
        p.put(8, h.bytes(), 0, h.bytes().length);
        int fd = LIBC.open_by_handle_at(mountFd, p, flags | 02000000);
        if (fd < 0) {
            throw Native.failure(LIBC, "open_by_handle_at");
        }
        return fd;
    }

    /** The mount id and mount-root bit of the object {@code fd} refers to (statx, never following). */
    public record MountInfo(int mountId, boolean mountRoot) {
    }

    /**
     * statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID): which mount the object is on,
     * and whether it is the root of that mount (a submount inside a share).
     *
     * @throws FsException EINVAL on kernels before 5.8, which have neither field
     */
    public static MountInfo mountInfo(int fd) throws FsException {
        Pointer p = SCRATCH.get();
        // struct statx: 0 mask u32 | 8 attributes u64 | 56 attributes_mask u64 | 144 mnt_id u64
        if (LIBC.statx(fd, EMPTY, PosixFiles.AT_EMPTY_PATH | PosixFiles.AT_SYMLINK_NOFOLLOW, STATX_MNT_ID,
                p.slice(STATX_AT, 256)) < 0) {
            throw Native.failure(LIBC, "statx");
        }
        int mask = p.getInt(STATX_AT);
        long attributes = p.getLong(STATX_AT + 8);
        long known = p.getLong(STATX_AT + 56);
        if ((mask & STATX_MNT_ID) == 0 || (known & STATX_ATTR_MOUNT_ROOT) == 0) {
            throw FsException.of(Errno.EINVAL, "statx has no mount id here (Linux 5.8+)");
        }
        return new MountInfo((int) p.getLong(STATX_AT + 144), (attributes & STATX_ATTR_MOUNT_ROOT) != 0);
    }
}
