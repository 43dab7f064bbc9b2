package io.vfsgw.spi;

/**
 * A POSIX byte-range lock (fcntl F_GETLK/F_SETLK) or, with {@code flock}, a whole-file BSD lock.
 *
 * @param type  F_RDLCK (0), F_WRLCK (1) or F_UNLCK (2)
 * @param start first byte
 * @param end   last byte, inclusive; {@code Long.MAX_VALUE} (OFFSET_MAX) for "to end of file"
 * @param owner the lock owner the kernel assigned (one per open file description / process)
 * @param pid   the locking process, reported back by getlk
 */
public record Lock(int type, long start, long end, long owner, int pid) {
    public static final int F_RDLCK = 0;
    public static final int F_WRLCK = 1;
    public static final int F_UNLCK = 2;
}
