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
 */
public record PosixOptions(Path source, boolean readonly, boolean xattr, boolean allowDevices, boolean allowDirectIo,
                           IdMap uidMap, IdMap gidMap) {
    public PosixOptions {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(uidMap, "uidMap");
        Objects.requireNonNull(gidMap, "gidMap");
    }

    /** Read-write, xattrs on, no devices, no O_DIRECT, ids unmapped. */
    public static PosixOptions of(Path source) {
        return new PosixOptions(source, false, true, false, false, IdMap.IDENTITY, IdMap.IDENTITY);
    }

    public PosixOptions withIdMaps(IdMap uids, IdMap gids) {
        return new PosixOptions(source, readonly, xattr, allowDevices, allowDirectIo, uids, gids);
    }

    public PosixOptions withReadonly(boolean v) {
        return new PosixOptions(source, v, xattr, allowDevices, allowDirectIo, uidMap, gidMap);
    }

    public PosixOptions withXattr(boolean v) {
        return new PosixOptions(source, readonly, v, allowDevices, allowDirectIo, uidMap, gidMap);
    }

    public PosixOptions withAllowDevices(boolean v) {
        return new PosixOptions(source, readonly, xattr, v, allowDirectIo, uidMap, gidMap);
    }

    public PosixOptions withAllowDirectIo(boolean v) {
        return new PosixOptions(source, readonly, xattr, allowDevices, v, uidMap, gidMap);
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
