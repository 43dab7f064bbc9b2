package io.vfsgw.nativeio;

import com.kenai.jffi.MemoryIO;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.Pointer;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;

/**
 * mmap(2) of shared file descriptors (guest RAM, DAX windows), as direct ByteBuffers, and memfd
 * for tests. Java caps a ByteBuffer at 2 GiB, so a {@link Mapping} hands out views of at most
 * {@link Integer#MAX_VALUE} bytes at any offset; callers view a large region through several.
 */
public final class MemoryMaps {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MFD_CLOEXEC = 1;

    /** The libc symbols this family uses; public only because jnr-ffi generates its implementation. */
    public interface Libc {
        // Pointer, not long: jnr-ffi's all-long fast path passes this 6-argument call wrongly (EINVAL).
        Pointer mmap(Pointer addr, @size_t long length, int prot, int flags, int fd, @off_t long offset);

        int munmap(long addr, @size_t long length);

        int memfd_create(String name, int flags);

        int ftruncate(int fd, @off_t long length);
    }

    private static final Libc LIBC = Native.loadLibc(Libc.class);
    private static final MemoryIO IO = MemoryIO.getInstance();

    private MemoryMaps() {
    }

    /**
     * One live mmap. Views stay valid until {@link #close()}; touching a view after close crashes
     * the JVM, so owners must know that no view is in use (see GuestMemory's reference counts).
     */
    public static final class Mapping implements AutoCloseable {
        private final long address;
        private final long length;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Mapping(long address, long length) {
            this.address = address;
            this.length = length;
        }

        public long length() {
            return length;
        }

        /** A LITTLE_ENDIAN view of [offset, offset+len) of the mapping; never copies. */
        public ByteBuffer view(long offset, int len) {
            if (offset < 0 || len < 0 || offset > length - len) {
                throw new IndexOutOfBoundsException("view [" + offset + ", +" + len + ") of " + length);
            }
            if (closed.get()) {
                throw new IllegalStateException("mapping already unmapped");
            }
            // SAFETY: [address+offset, +len) lies inside the live mapping, checked just above.
            return IO.newDirectByteBuffer(address + offset, len).order(ByteOrder.LITTLE_ENDIAN);
        }

        /** munmap(2); idempotent. */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                LIBC.munmap(address, length);
            }
        }
    }

    /** Maps [offset, offset+length) of {@code fd} shared (and read-write when {@code writable}). */
    public static Mapping map(int fd, long offset, long length, boolean writable) throws FsException {
        if (length <= 0 || offset < 0) {
            throw FsException.of(Errno.EINVAL, "mmap length " + length + " offset " + offset);
        }
        int prot = PROT_READ | (writable ? PROT_WRITE : 0);
        Pointer p = LIBC.mmap(null, length, prot, MAP_SHARED | MAP_NORESERVE, fd, offset);
        long a = p == null ? -1L : p.address();
        if (a == -1L) {
            throw Native.failure(LIBC, "mmap(fd " + fd + ", " + length + " bytes at " + offset + ")");
        }
        return new Mapping(a, length);
    }

    /** An anonymous memory file of {@code size} bytes (close-on-exec), as a VMM's guest RAM is. */
    public static int memfdCreate(String name, long size) throws FsException {
        int fd = LIBC.memfd_create(name, MFD_CLOEXEC);
        if (fd < 0) {
            throw Native.failure(LIBC, "memfd_create");
        }
        if (LIBC.ftruncate(fd, size) != 0) {
            FsException e = Native.failure(LIBC, "ftruncate(memfd, " + size + ")");
            UnixSockets.close(fd);
            throw e;
        }
        return fd;
    }
}
