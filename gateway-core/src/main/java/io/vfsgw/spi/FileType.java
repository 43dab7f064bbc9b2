package io.vfsgw.spi;

/** The S_IFMT bits of a mode and the DT_* value a directory entry carries. */
public enum FileType {
    FIFO(0010000, 1), CHARACTER_DEVICE(0020000, 2), DIRECTORY(0040000, 4), BLOCK_DEVICE(0060000, 6),
    REGULAR(0100000, 8), SYMLINK(0120000, 10), SOCKET(0140000, 12);

    /** Mask of the type bits in st_mode. */
    public static final int S_IFMT = 0170000;

    /** values() copies its array on every call; listings ask once per entry. */
    private static final FileType[] ALL = values();

    private final int modeBits;
    private final int direntType;

    FileType(int modeBits, int direntType) {
        this.modeBits = modeBits;
        this.direntType = direntType;
    }

    public int modeBits() {
        return modeBits;
    }

    /** The DT_* constant of readdir. */
    public int direntType() {
        return direntType;
    }

    /** The type of a full st_mode, or null if the type bits are not a known type. */
    public static FileType ofMode(int mode) {
        int t = mode & S_IFMT;
        for (FileType f : ALL) {
            if (f.modeBits == t) {
                return f;
            }
        }
        return null;
    }

    /** The type of a DT_* value, or null for DT_UNKNOWN and values that are no known type. */
    public static FileType ofDirentType(int direntType) {
        for (FileType f : ALL) {
            if (f.direntType == direntType) {
                return f;
            }
        }
        return null;
    }
}
