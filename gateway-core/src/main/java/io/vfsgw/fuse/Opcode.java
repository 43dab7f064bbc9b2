package io.vfsgw.fuse;

/**
 * {@code enum fuse_opcode}: every request the kernel can send, with its number. Opcodes newer than
 * 7.38 (STATX, COPY_FILE_RANGE_64) are listed so the session can name them in logs and answer
 * ENOSYS; 7 and 19 were never assigned.
 */
public enum Opcode {
    LOOKUP(1), FORGET(2), GETATTR(3), SETATTR(4), READLINK(5), SYMLINK(6), MKNOD(8), MKDIR(9),
    UNLINK(10), RMDIR(11), RENAME(12), LINK(13), OPEN(14), READ(15), WRITE(16), STATFS(17),
    RELEASE(18), FSYNC(20), SETXATTR(21), GETXATTR(22), LISTXATTR(23), REMOVEXATTR(24), FLUSH(25),
    INIT(26), OPENDIR(27), READDIR(28), RELEASEDIR(29), FSYNCDIR(30), GETLK(31), SETLK(32),
    SETLKW(33), ACCESS(34), CREATE(35), INTERRUPT(36), BMAP(37), DESTROY(38), IOCTL(39), POLL(40),
    NOTIFY_REPLY(41), BATCH_FORGET(42), FALLOCATE(43), READDIRPLUS(44), RENAME2(45), LSEEK(46),
    COPY_FILE_RANGE(47), SETUPMAPPING(48), REMOVEMAPPING(49), SYNCFS(50), TMPFILE(51),
    /** 7.39. */
    STATX(52),
    /** 7.45. */
    COPY_FILE_RANGE_64(53),
    /** CUSE only; a FUSE session answers ENOSYS. */
    CUSE_INIT(4096);

    private static final Opcode[] BY_CODE = new Opcode[54];

    static {
        for (Opcode o : values()) {
            if (o.code < BY_CODE.length) {
                BY_CODE[o.code] = o;
            }
        }
    }

    private final int code;

    Opcode(int code) {
        this.code = code;
    }

    /** The number in {@code fuse_in_header.opcode}. */
    public int code() {
        return code;
    }

    /** The opcode with this number, or null when vfsgw does not know it (answer ENOSYS). */
    public static Opcode fromCode(int code) {
        if (code >= 0 && code < BY_CODE.length) {
            return BY_CODE[code];
        }
        return code == CUSE_INIT.code ? CUSE_INIT : null;
    }

    /**
     * False for the requests the kernel expects no reply to: FORGET, BATCH_FORGET, NOTIFY_REPLY (the
     * kernel's answer to a retrieve) and INTERRUPT (which may, optionally, be answered EAGAIN to ask
     * the kernel to resend it later, as libfuse does when the target request is not yet known).
     */
    public boolean expectsReply() {
        return this != FORGET && this != BATCH_FORGET && this != NOTIFY_REPLY && this != INTERRUPT;
    }
}
