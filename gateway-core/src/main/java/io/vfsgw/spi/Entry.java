package io.vfsgw.spi;

/**
 * The result of a lookup or a create: a node the caller now holds one more lookup reference to.
 *
 * @param nodeId     backend-chosen id, nonzero, {@link StorageBackend#ROOT_ID} for the root; not reused
 *                   while any lookup reference is held
 * @param generation with nodeId unique over the backend's lifetime (NFS export file handles)
 */
public record Entry(long nodeId, long generation, Attr attr) {
}
