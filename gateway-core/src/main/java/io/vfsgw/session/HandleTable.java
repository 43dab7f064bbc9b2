package io.vfsgw.session;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The open file and directory handles of one FUSE connection. The kernel sees our own handle
 * numbers, never the backend's, so one guest cannot use (or release) another guest's handles.
 */
public final class HandleTable {
    /** One open file description as the session knows it. */
    public record OpenHandle(long fh, long node, long backendFh, int flags, boolean directory) {
    }

    private final Map<Long, OpenHandle> handles = new ConcurrentHashMap<>();
    private final AtomicLong next = new AtomicLong(1);

    public OpenHandle add(long node, long backendFh, int flags, boolean directory) {
        OpenHandle h = new OpenHandle(next.getAndIncrement(), node, backendFh, flags, directory);
        handles.put(h.fh(), h);
        return h;
    }

    /** The handle, or null when unknown or opened on another node or of the other kind. */
    public OpenHandle get(long fh, long node, boolean directory) {
        OpenHandle h = handles.get(fh);
        if (h == null || h.directory() != directory || (node != 0 && h.node() != node)) {
            return null;
        }
        return h;
    }

    public OpenHandle remove(long fh, long node, boolean directory) {
        OpenHandle h = get(fh, node, directory);
        if (h != null && handles.remove(fh, h)) {
            return h;
        }
        return null;
    }

    public int size() {
        return handles.size();
    }

    /** Removes and returns every handle (connection teardown). */
    public Collection<OpenHandle> drain() {
        Collection<OpenHandle> all = new java.util.ArrayList<>(handles.values());
        handles.clear();
        return all;
    }
}
