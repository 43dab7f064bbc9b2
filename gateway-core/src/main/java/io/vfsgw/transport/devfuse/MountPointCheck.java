package io.vfsgw.transport.devfuse;

import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Checks a mount point before mounting; every refusal says what the user can do about it. */
final class MountPointCheck {
    /** The fstype our mounts carry (fuse with subtype vfsgw), as mountinfo shows it. */
    static final String FS_TYPE = "fuse.vfsgw";

    private MountPointCheck() {
    }

    /**
     * Returns the canonical path to mount on (symlinks resolved, as the kernel will record it).
     *
     * @throws FsException ENOENT (missing), ENOTDIR, ENOTCONN (a dead FUSE mount is in the way),
     *                     EBUSY (a live vfsgw already serves it), ENOTEMPTY (unless allowed), EIO
     */
    static String check(Path mountPoint, boolean allowNonEmpty) throws FsException {
        Path abs = mountPoint.toAbsolutePath().normalize();
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(abs, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw FsException.of(Errno.ENOENT, "mount point " + abs + " does not exist; create it (mkdir -p "
                    + abs + ") or pick an existing empty directory");
        } catch (IOException e) {
            // A FUSE mount whose daemon died answers every stat with ENOTCONN.
            boolean deadFuse = MountTable.topAt(abs.toString())
                    .filter(m -> m.fsType().equals("fuse") || m.fsType().startsWith("fuse.")).isPresent();
            if (deadFuse) {
                throw FsException.of(Errno.ENOTCONN, "mount point " + abs + " is a FUSE mount whose daemon is gone; "
                        + "clear it with 'umount -l " + abs + "' and mount again");
            }
            throw FsException.wrap(Errno.EIO, e, "cannot stat mount point " + abs + ": " + e.getMessage());
        }
        if (!attrs.isDirectory()) {
            throw FsException.of(Errno.ENOTDIR, "mount point " + abs + " is not a directory; pick an empty directory");
        }
        String real;
        try {
            real = abs.toRealPath().toString();
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "cannot resolve mount point " + abs + ": " + e.getMessage());
        }
        if (MountTable.topAt(real).filter(m -> m.fsType().equals(FS_TYPE)).isPresent()) {
            throw FsException.of(Errno.EBUSY, "mount point " + real + " is already served by a running vfsgw; "
                    + "unmount it first (umount " + real + ") or pick another directory");
        }
        if (!allowNonEmpty && hasEntries(abs)) {
            throw FsException.of(Errno.ENOTEMPTY, "mount point " + abs
                    + " is not empty; pass --allow-non-empty or pick an empty directory");
        }
        return real;
    }

    private static boolean hasEntries(Path dir) throws FsException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            return entries.iterator().hasNext();
        } catch (IOException e) {
            throw FsException.wrap(Errno.EIO, e, "cannot list mount point " + dir + ": " + e.getMessage());
        }
    }
}
