package io.vfsgw.nativeio;

import com.kenai.jffi.MemoryIO;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * The native address of a direct buffer, and 64-bit stores into native memory (iovec arrays,
 * syscall arguments): the one way this package finds a direct buffer's address. JNI's
 * GetDirectBufferAddress (what jffi offers) is a runtime call per buffer, and a guest's 1 MiB WRITE
 * can bring 256 buffers; the buffer's own {@code address} field, read through Unsafe, is a plain
 * load. Falls back to JNI if the field cannot be found.
 */
final class DirectBuffers {
    private static final MemoryIO IO = MemoryIO.getInstance();
    private static final sun.misc.Unsafe UNSAFE;
    private static final long ADDRESS;

    static {
        sun.misc.Unsafe unsafe = null;
        long address = -1;
        try {
            Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = (sun.misc.Unsafe) f.get(null);
            address = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address"));
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
        }
        UNSAFE = unsafe;
        ADDRESS = address;
    }

    private DirectBuffers() {
    }

    /** The address of {@code b}'s element 0; {@code b} must be direct (the caller checks). */
    static long address(ByteBuffer b) {
        return UNSAFE != null ? UNSAFE.getLong(b, ADDRESS) : IO.getDirectBufferAddress(b);
    }

    /** Stores {@code value} at native address {@code at}, which the caller owns. */
    static void putLong(long at, long value) {
        if (UNSAFE != null) {
            UNSAFE.putLong(at, value);
        } else {
            IO.putLong(at, value);
        }
    }
}
