package io.vfsgw.spi;

/**
 * Linux errno values. The guest is always Linux, so the wire always carries these numbers,
 * whatever the host. Anything not modelled here is reported as {@link #EIO}.
 */
public enum Errno {
    EPERM(1), ENOENT(2), ESRCH(3), EINTR(4), EIO(5), ENXIO(6), E2BIG(7), EBADF(9), EAGAIN(11),
    ENOMEM(12), EACCES(13), EFAULT(14), EBUSY(16), EEXIST(17), EXDEV(18), ENODEV(19), ENOTDIR(20),
    EISDIR(21), EINVAL(22), ENFILE(23), EMFILE(24), ENOTTY(25), ETXTBSY(26), EFBIG(27), ENOSPC(28),
    ESPIPE(29), EROFS(30), EMLINK(31), EPIPE(32), ERANGE(34), EDEADLK(35), ENAMETOOLONG(36),
    ENOLCK(37), ENOSYS(38), ENOTEMPTY(39), ELOOP(40), ENODATA(61), ETIME(62), EPROTO(71),
    EBADMSG(74), EOVERFLOW(75), EILSEQ(84), ENOTSOCK(88), EOPNOTSUPP(95), ENOTCONN(107), ETIMEDOUT(110),
    ECONNREFUSED(111), EHOSTUNREACH(113), ESTALE(116), EDQUOT(122), ECANCELED(125);

    private static final Errno[] BY_CODE = new Errno[128];

    static {
        for (Errno e : values()) {
            BY_CODE[e.code] = e;
        }
    }

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    /** The positive Linux errno number. */
    public int code() {
        return code;
    }

    /** Host errno to Errno; anything we do not model is reported as EIO. */
    public static Errno fromCode(int code) {
        Errno e = (code > 0 && code < BY_CODE.length) ? BY_CODE[code] : null;
        return e != null ? e : EIO;
    }
}
