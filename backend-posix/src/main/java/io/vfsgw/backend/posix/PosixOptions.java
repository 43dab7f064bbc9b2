package io.vfsgw.backend.posix;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Options of the posix backend ({@code --backend posix}).
 *
 * @param source        the host directory to expose (--source DIR)
 * @param readonly      refuse every mutation with EROFS
 * @param xattr         pass extended attributes through (otherwise EOPNOTSUPP, as virtiofsd's default)
 * @param allowDevices  let the guest create character/block device nodes (otherwise EPERM): a device
 *                      node in the share is a door to host devices for anyone who can open it on the host
 * @param allowDirectIo honour O_DIRECT on the host fd (otherwise stripped, the host page cache serves)
 * @param uidMap        guest to host uid translation (--uid-map), {@link IdMap#IDENTITY} for none
 * @param gidMap        guest to host gid translation (--gid-map)
 * @param xattrMap      virtiofsd-style xattr name mapping (--xattrmap), null for none
 * @param fileHandles   when idle nodes keep a file handle instead of an O_PATH fd (--inode-file-handles)
 * @param maxFds        O_PATH fds kept by idle nodes before the oldest trade theirs for a file handle
 *                      (--max-fds); 0 = half the soft RLIMIT_NOFILE at start
 * @param posixAcl      pass system.posix_acl_access/default through to the host (--posix-acl);
 *                      otherwise they are refused with EOPNOTSUPP as on a filesystem without ACLs
 */
public record PosixOptions(Path source, boolean readonly, boolean xattr, boolean allowDevices, boolean allowDirectIo,
                           IdMap uidMap, IdMap gidMap, XattrMap xattrMap, InodeFileHandles fileHandles, int maxFds,
                           boolean posixAcl) {
    /** virtiofsd's --inode-file-handles modes. */
    public enum InodeFileHandles {
        /** Every node keeps an O_PATH fd (the number of nodes is bounded by the fd limit). */
        NEVER,
        /** Nodes beyond the fd budget keep a file handle; a filesystem without handles falls back to fds. */
        PREFER,
        /** As PREFER, but start-up fails unless the source supports file handles and we may open them. */
        MANDATORY;

        /** Parses never|prefer|mandatory (any case). */
        public static InodeFileHandles parse(String s) {
            for (InodeFileHandles m : values()) {
                if (m.name().equalsIgnoreCase(s.strip())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("--inode-file-handles " + s + ": expected never, prefer or mandatory");
        }
    }

    public PosixOptions {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(uidMap, "uidMap");
        Objects.requireNonNull(gidMap, "gidMap");
        Objects.requireNonNull(fileHandles, "fileHandles");
        if (maxFds < 0) {
            throw new IllegalArgumentException("--max-fds must be 0 (automatic) or positive: " + maxFds);
        }
    }

    /** Read-write, xattrs on, no devices, no O_DIRECT, ids unmapped, no xattr map, file handles preferred. */
    public static PosixOptions of(Path source) {
        return new PosixOptions(source, false, true, false, false, IdMap.IDENTITY, IdMap.IDENTITY, null,
                InodeFileHandles.PREFER, 0, false);
    }

    public PosixOptions withIdMaps(IdMap uids, IdMap gids) {
        return new PosixOptions(source, readonly, xattr, allowDevices, allowDirectIo, uids, gids, xattrMap,
                fileHandles, maxFds, posixAcl);
    }

    public PosixOptions withReadonly(boolean v) {
        return new PosixOptions(source, v, xattr, allowDevices, allowDirectIo, uidMap, gidMap, xattrMap,
                fileHandles, maxFds, posixAcl);
    }

    public PosixOptions withXattr(boolean v) {
        return new PosixOptions(source, readonly, v, allowDevices, allowDirectIo, uidMap, gidMap, xattrMap,
                fileHandles, maxFds, posixAcl);
    }

    public PosixOptions withAllowDevices(boolean v) {
        return new PosixOptions(source, readonly, xattr, v, allowDirectIo, uidMap, gidMap, xattrMap,
                fileHandles, maxFds, posixAcl);
    }

    public PosixOptions withAllowDirectIo(boolean v) {
        return new PosixOptions(source, readonly, xattr, allowDevices, v, uidMap, gidMap, xattrMap,
                fileHandles, maxFds, posixAcl);
    }

    /** {@code map} null for none. */
    public PosixOptions withXattrMap(XattrMap map) {
        return new PosixOptions(source, readonly, xattr, allowDevices, allowDirectIo, uidMap, gidMap, map,
                fileHandles, maxFds, posixAcl);
    }

    /** {@code fds} 0 for automatic (half the soft RLIMIT_NOFILE). */
    public PosixOptions withFileHandles(InodeFileHandles mode, int fds) {
        return new PosixOptions(source, readonly, xattr, allowDevices, allowDirectIo, uidMap, gidMap, xattrMap,
                mode, fds, posixAcl);
    }

    public PosixOptions withPosixAcl(boolean v) {
        return new PosixOptions(source, readonly, xattr, allowDevices, allowDirectIo, uidMap, gidMap, xattrMap,
                fileHandles, maxFds, v);
    }

    /**
     * Fails with one line saying what to do when --source is missing or not a directory.
     *
     * @throws IllegalArgumentException the message is meant for the user as is
     */
    public void checkSource() {
        if (!Files.exists(source)) {
            throw new IllegalArgumentException("posix backend: --source " + source
                    + " does not exist; create it (mkdir -p " + source + ") or pass an existing directory");
        }
        if (!Files.isDirectory(source)) {
            throw new IllegalArgumentException("posix backend: --source " + source
                    + " is not a directory; pass the directory to share");
        }
    }
}
