package io.vfsgw.cache;

import io.vfsgw.spi.FileName;

/**
 * Told about every change made through the gateway, so a session can tell its kernel at once
 * (FUSE_NOTIFY_INVAL_*) when another session made the change. {@code origin} identifies the
 * session whose request caused it (0 when unknown).
 */
public interface ChangeListener {
    /** The node's attributes or data changed. */
    void nodeChanged(long origin, long node);

    /** The name {@code name} in {@code parent} now points elsewhere or nowhere. */
    void entryChanged(long origin, long parent, FileName name);
}
