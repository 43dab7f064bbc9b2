package io.vfsgw.spi;

/**
 * The result of a lookup or a create: a node the caller now holds one more lookup reference to.
 *
 * @param nodeId          backend-chosen id, nonzero, {@link StorageBackend#ROOT_ID} for the root; not
 *                        reused while any lookup reference is held
 * @param generation      with nodeId unique over the backend's lifetime (NFS export file handles)
 * @param attrProvisional the attributes are a stand-in the backend has not confirmed (an S3 object
 *                        known only from a listing: its mode and owner are in metadata not read yet).
 *                        Nobody may keep them or show them: the session confirms them with
 *                        {@code getattr} before a LOOKUP reply and leaves them out of READDIRPLUS
 */
public record Entry(long nodeId, long generation, Attr attr, boolean attrProvisional) {
    public Entry(long nodeId, long generation, Attr attr) {
        this(nodeId, generation, attr, false);
    }
}
