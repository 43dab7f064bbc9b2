package io.vfsgw.backend.mem;

import io.vfsgw.spi.FileName;

import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A directory: its entries by name and by readdir cookie. Guarded by the backend's namespace lock
 * (read for lookup/readdir, write for changes), not by {@link Node#lock}.
 *
 * <p>Cookies: every entry added gets the next value of a per-directory sequence, never reused, and
 * that sequence number is the entry's readdir cookie. Listing "after cookie c" is then a tail map
 * of the sequence index, which stays correct whatever was added or removed meanwhile: entries that
 * existed throughout are listed once, removed ones are not, new ones may or may not be (POSIX).
 * "." and ".." are cookies 1 and 2; a rename inside the directory is a remove plus an add.
 */
final class DirNode extends Node {
    static final long DOT_COOKIE = 1;
    static final long DOTDOT_COOKIE = 2;

    /** One name in a directory. */
    record Dirent(FileName name, Node node, long cookie) {
    }

    private final Map<FileName, Dirent> byName = new HashMap<>();
    private final NavigableMap<Long, Dirent> byCookie = new TreeMap<>();
    private long nextCookie = DOTDOT_COOKIE + 1;
    /** byName.size(), readable by getattr without the namespace lock. */
    private volatile int count;
    /** The directory ".." names; the root is its own parent. */
    DirNode parent;

    DirNode(long id, int mode, int uid, int gid, long nowNs) {
        super(id, mode, uid, gid, nowNs, 0, null);
    }

    Node get(FileName name) {
        Dirent d = byName.get(name);
        return d == null ? null : d.node();
    }

    void put(FileName name, Node node) {
        Dirent old = byName.remove(name);
        if (old != null) {
            byCookie.remove(old.cookie());
        }
        Dirent d = new Dirent(name, node, nextCookie++);
        byName.put(name, d);
        byCookie.put(d.cookie(), d);
        count = byName.size();
    }

    Node remove(FileName name) {
        Dirent d = byName.remove(name);
        if (d == null) {
            return null;
        }
        byCookie.remove(d.cookie());
        count = byName.size();
        return d.node();
    }

    boolean isEmpty() {
        return byName.isEmpty();
    }

    int entryCount() {
        return count;
    }

    /** Entries whose cookie is greater than {@code cookie}, in cookie order. */
    Iterable<Dirent> after(long cookie) {
        return byCookie.tailMap(cookie, false).values();
    }

    /** tmpfs-style apparent size: a fixed 20 bytes per entry, "." and ".." included. */
    @Override
    long size() {
        return (entryCount() + 2L) * 20;
    }
}
