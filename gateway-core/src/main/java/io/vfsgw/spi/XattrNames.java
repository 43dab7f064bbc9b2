package io.vfsgw.spi;

import java.nio.charset.StandardCharsets;

/**
 * Linux's rules for extended attribute names, for backends that store xattrs themselves (mem, s3;
 * posix leaves them to the host kernel): the namespaces, their privileges, and the length limits.
 */
public final class XattrNames {
    /** XATTR_NAME_MAX of linux/limits.h. */
    public static final int NAME_MAX = 255;
    /** XATTR_SIZE_MAX of linux/limits.h. */
    public static final int SIZE_MAX = 65536;

    private XattrNames() {
    }

    /**
     * Validates {@code name} for a node of {@code type} and the caller's right to its namespace;
     * returns its length in bytes.
     *
     * @param modify set or remove (EPERM where a read answers ENODATA)
     * @throws FsException ERANGE (empty or too long), EPERM / ENODATA (user.* on other than files
     *                     and directories, trusted.* without root), EOPNOTSUPP (system.* and unknown
     *                     namespaces), EINVAL (a namespace without a suffix)
     */
    public static int check(RequestContext ctx, FileType type, String name, boolean modify) throws FsException {
        int len = name.getBytes(StandardCharsets.UTF_8).length;
        if (len == 0 || len > NAME_MAX) {
            throw FsException.of(Errno.ERANGE, "xattr name length " + len);
        }
        String suffix;
        if (name.startsWith("user.")) {
            suffix = name.substring(5);
            if (type != FileType.REGULAR && type != FileType.DIRECTORY) {
                // Linux: user.* only on files and directories (they may be others' FIFOs/devices).
                throw FsException.of(modify ? Errno.EPERM : Errno.ENODATA);
            }
        } else if (name.startsWith("trusted.")) {
            suffix = name.substring(8);
            if (!ctx.isRoot()) {
                throw FsException.of(modify ? Errno.EPERM : Errno.ENODATA, "trusted.* needs root");
            }
        } else if (name.startsWith("security.")) {
            suffix = name.substring(9);
        } else {
            // system.posix_acl_* (no ACLs here) and unknown namespaces.
            throw FsException.of(Errno.EOPNOTSUPP, "xattr namespace of " + name);
        }
        if (suffix.isEmpty()) {
            throw FsException.of(Errno.EINVAL, "xattr name without a suffix");
        }
        return len;
    }

    /** Whether listxattr shows {@code name} to this caller (trusted.* only to root). */
    public static boolean listable(RequestContext ctx, String name) {
        return ctx.isRoot() || !name.startsWith("trusted.");
    }
}
