package io.vfsgw.spi;

/**
 * One directory entry as readdir yields it.
 *
 * @param nextCookie the offset the guest passes back to continue after this entry; must stay valid
 *                   across entries being added or removed elsewhere in the directory (no entry seen
 *                   twice, none skipped that existed throughout)
 */
public record DirEntry(FileName name, long ino, FileType type, long nextCookie) {
}
