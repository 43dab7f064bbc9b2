package io.vfsgw.spi;

/** statfs(2) for the filesystem: counts of {@code frsize} blocks and of inodes. */
public record StatFs(long blocks, long blocksFree, long blocksAvailable, long files, long filesFree,
                     int blockSize, int nameMax, int fragmentSize) {
}
