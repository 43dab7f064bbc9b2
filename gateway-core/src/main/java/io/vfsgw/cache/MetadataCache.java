package io.vfsgw.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.ForwardingBackend;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The coherency layer between the sessions and one backend: a decorator that caches attributes and
 * negative lookups, keeps a version per node, and tells every session about changes.
 *
 * <h2>Design</h2>
 * <ul>
 * <li><b>Versions.</b> Each node has a version drawn from one global counter. It changes on every
 * mutation made through the gateway (by any session) and whenever a fresh getattr shows the backend
 * changed the node behind our back (size, mtime or ctime differ from what was cached). Since
 * versions come from one counter, a forgotten (evicted) version is replaced by a new, never-seen
 * value: an eviction can only make a cache item look stale, never fresh. The session uses versions
 * for close-to-open data caching ({@code keep_cache} only while the version is unchanged).</li>
 * <li><b>What is cached.</b> Attributes (getattr) and negative entries (lookup ENOENT), each for the
 * mode's timeout and bounded in size; mode {@code none} caches nothing. Positive entries are not
 * answered from here because a lookup hands out a backend reference that only the backend can
 * count; instead the (parent, name) -> child map is remembered so unlink and rename can invalidate
 * the child's attributes (its nlink and ctime change).</li>
 * <li><b>Storage.</b> Plain concurrent maps; each one that reaches its bound is emptied whole. A
 * bounded LRU (Caffeine) cost 10-14 us of CPU per created file under C1 for its bookkeeping, ten
 * times the mem backend's own work. Emptying is safe for the same reason as eviction: a missing
 * version is replaced by a never-seen one, a missing attribute or negative entry is a miss, and
 * the attributes go with the child map, so no attribute outlives the entry that invalidates it.
 * Expiry is a deadline stored with each item and checked when it is read.</li>
 * <li><b>Invalidation.</b> Every mutation through this class invalidates the affected nodes and
 * names before returning, so a second guest sharing this cache sees the change on its next request
 * that reaches us. Its kernel may still answer from its own cache until its entry/attr timeout
 * expires; over /dev/fuse the session is told through {@link ChangeListener} and invalidates the
 * kernel at once.</li>
 * <li><b>Concurrency.</b> A getattr or lookup racing a mutation may re-insert an attribute read just
 * before the mutation. To prevent that, a getattr only caches its result if the node's version did
 * not move while the backend call ran; a lookup (or a create, mkdir, ... whose entry carries
 * attributes), whose node is known only once the call returns, only if no version was drawn for
 * that node after the call began.</li>
 * </ul>
 * Time is injected (a Caffeine {@link Ticker}) so tests advance it instead of sleeping.
 */
public final class MetadataCache extends ForwardingBackend {
    private record CachedAttr(Attr attr, long version, long expiresAt) {
    }

    /**
     * A map key looked up on every LOOKUP, CREATE and UNLINK. equals and hashCode are written out:
     * a record's generated ones go through method handles, slow calls under C1.
     */
    private record EntryKey(long parent, FileName name) {
        @Override
        public boolean equals(Object o) {
            return o instanceof EntryKey k && parent == k.parent && name.equals(k.name);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(parent) * 31 + name.hashCode();
        }
    }

    private final CacheConfig config;
    private final boolean enabled;
    private final long ttlNanos;
    private final long maxEntries;
    /** Versions outlive the attributes they guard, so their table holds more. */
    private final long maxVersions;
    private final Ticker ticker;
    private final AtomicLong versionSeq = new AtomicLong();
    private final ConcurrentHashMap<Long, Long> versions = new ConcurrentHashMap<>();
    /** The version counter when {@link #versions} was last emptied: no race check sees past it. */
    private volatile long versionsClearedAt;
    private final ConcurrentHashMap<Long, CachedAttr> attrs = new ConcurrentHashMap<>();
    /** Names known not to exist, with the ticker time they stop counting. */
    private final ConcurrentHashMap<EntryKey, Long> negatives = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<EntryKey, Long> children = new ConcurrentHashMap<>();
    /** The attributes last read from the backend, kept past expiry to detect changes made behind our back. */
    private final ConcurrentHashMap<Long, Attr> lastSeen = new ConcurrentHashMap<>();
    private final LongAdder attrHits = new LongAdder();
    private final LongAdder attrMisses = new LongAdder();
    private final LongAdder negativeHits = new LongAdder();
    private final LongAdder negativeMisses = new LongAdder();
    /**
     * Copied on every change (sessions come and go rarely); read as a plain array because an
     * iterator per mutation was garbage on every request.
     */
    private volatile ChangeListener[] listeners = new ChangeListener[0];

    public MetadataCache(StorageBackend delegate, CacheConfig config) {
        this(delegate, config, Ticker.systemTicker());
    }

    public MetadataCache(StorageBackend delegate, CacheConfig config, Ticker ticker) {
        super(delegate);
        this.config = config;
        this.enabled = !config.timeout().isZero();
        this.ttlNanos = config.timeout().toNanos();
        this.maxEntries = Math.max(1, config.maxEntries());
        this.maxVersions = 4 * maxEntries;
        this.ticker = ticker;
    }

    public CacheConfig config() {
        return config;
    }

    public synchronized void addListener(ChangeListener l) {
        ChangeListener[] now = Arrays.copyOf(listeners, listeners.length + 1);
        now[now.length - 1] = l;
        listeners = now;
    }

    public synchronized void removeListener(ChangeListener l) {
        List<ChangeListener> now = new ArrayList<>(Arrays.asList(listeners));
        now.remove(l);
        listeners = now.toArray(new ChangeListener[now.size()]);
    }

    /** The node's current version; a node never seen gets a fresh one. */
    public long version(long node) {
        Long v = versions.get(node);
        if (v != null) {
            return v;
        }
        long fresh = versionSeq.incrementAndGet();
        Long won = versionTable().putIfAbsent(node, fresh);
        return won != null ? won : fresh;
    }

    /** Hit/miss counters for attributes and negative entries. */
    public record Stats(long attrHits, long attrMisses, long negativeHits, long negativeMisses, long size) {
    }

    public Stats stats() {
        return new Stats(attrHits.sum(), attrMisses.sum(), negativeHits.sum(), negativeMisses.sum(),
                attrs.size() + negatives.size());
    }

    /** {@link #versions}, emptied first if full; an emptying is noted, as it hides the versions races would show. */
    private ConcurrentHashMap<Long, Long> versionTable() {
        if (versions.size() >= maxVersions) {
            versionsClearedAt = versionSeq.get();
            versions.clear();
        }
        return versions;
    }

    /**
     * The version to cache attributes of {@code node} with that a backend call begun when the
     * counter stood at {@code start} read; -1 when the node may have changed since (a version drawn
     * for it by a change since then, or the table emptied). A node without a version gets one here.
     */
    private long versionIfUnchangedSince(long node, long start) {
        Long v = versions.get(node);
        if (v == null) {
            long fresh = versionSeq.incrementAndGet();
            Long won = versionTable().putIfAbsent(node, fresh);
            if (won == null) {
                return versionsClearedAt > start ? -1 : fresh;   // drawn here, not by a change
            }
            v = won;
        }
        return v > start || versionsClearedAt > start ? -1 : v;
    }

    /** {@code map}, emptied first if it holds {@code max} items (see the class comment). */
    private static <K, V> ConcurrentHashMap<K, V> bounded(ConcurrentHashMap<K, V> map, long max) {
        if (map.size() >= max) {
            map.clear();
        }
        return map;
    }

    private long deadline() {
        return ticker.read() + ttlNanos;
    }

    private boolean expired(long deadline) {
        return ticker.read() - deadline >= 0;
    }

    // ---- invalidation ----

    private void changed(long node) {
        changed(node, ChangeOrigin.current());
    }

    /** Gives {@code node} a new version, drops its attributes, tells the sessions; returns the version. */
    private long changed(long node, long origin) {
        long version = versionSeq.incrementAndGet();
        versionTable().put(node, version);
        attrs.remove(node);
        lastSeen.remove(node);
        for (ChangeListener l : listeners) {
            l.nodeChanged(origin, node);
        }
        return version;
    }

    private void entryChanged(long parent, FileName name) {
        EntryKey k = new EntryKey(parent, name);
        negatives.remove(k);
        // Kept, not removed: a failed call (rmdir of a file: ENOTDIR) changed nothing, and
        // without the mapping a later rename or unlink of that name could not reach the node's
        // cached attributes. A mapping outliving its name only costs the node a needless refetch.
        Long child = children.get(k);
        if (child != null) {
            changed(child);
        }
        changed(parent);
        long origin = ChangeOrigin.current();
        for (ChangeListener l : listeners) {
            l.entryChanged(origin, parent, name);
        }
    }

    /**
     * Notes that (parent, name) is {@code e} and caches its attributes, read by a backend call begun
     * when the version counter stood at {@code start}.
     */
    private void remember(long parent, FileName name, Entry e, long start) {
        long node = e.nodeId();
        rememberChild(new EntryKey(parent, name), node);
        long version = e.attrProvisional() ? -1 : versionIfUnchangedSince(node, start);
        if (version < 0) {
            // A stand-in, or attributes a change overtook while the call ran: neither served from
            // here nor compared with what getattr finds.
            return;
        }
        Attr last = lastSeen.get(node);
        if (last != null && differs(last, e.attr())) {
            version = changed(node, 0); // seen changed by a lookup: the backend moved behind our back
        }
        if (enabled) {
            cacheAttr(node, e.attr(), version);
        }
        bounded(lastSeen, maxEntries).put(node, e.attr());
    }

    /**
     * Makes sure the children map knows which node (parent, name) names before a change by that name
     * (unlink, rmdir, rename): one no lookup here resolved is asked of the backend. A kernel looks a
     * name up before changing it, so this costs nothing then; it matters for a kernel whose dentries
     * outlived an emptied map, and a hostile one that names what it never looked up, whose change
     * would otherwise leave the node's cached ctime and link count as they were.
     */
    private void learnChild(RequestContext ctx, long parent, FileName name) {
        EntryKey k = new EntryKey(parent, name);
        if (!enabled || children.containsKey(k)) {
            return;
        }
        try {
            Entry e = delegate.lookup(ctx, parent, name);
            delegate.forget(e.nodeId(), 1);
            rememberChild(k, e.nodeId());
        } catch (FsException absent) {
            // nothing by that name: the change will fail
        }
    }

    /** Which node a (directory, name) is, so a change by that name can reach the node's attributes. */
    private void rememberChild(EntryKey k, long node) {
        if (children.size() >= maxEntries) {
            attrs.clear(); // an attribute may not outlive the child entry that would invalidate it
            children.clear();
        }
        children.put(k, node);
    }

    private void cacheAttr(long node, Attr attr, long version) {
        bounded(attrs, maxEntries).put(node, new CachedAttr(attr, version, deadline()));
    }

    // ---- reads ----

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        EntryKey k = new EntryKey(parent, name);
        if (enabled) {
            Long until = negatives.get(k);
            if (until != null && !expired(until)) {
                negativeHits.increment();
                throw FsException.of(Errno.ENOENT);
            }
            negativeMisses.increment();
        }
        long parentVersion = version(parent);
        long start = versionSeq.get();
        try {
            Entry e = delegate.lookup(ctx, parent, name);
            remember(parent, name, e, start);
            return e;
        } catch (FsException ex) {
            if (enabled && ex.errno() == Errno.ENOENT && version(parent) == parentVersion) {
                bounded(negatives, maxEntries).put(k, deadline());
            }
            throw ex;
        }
    }

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        if (enabled) {
            CachedAttr c = attrs.get(node);
            if (c != null && !expired(c.expiresAt()) && c.version() == version(node)) {
                attrHits.increment();
                return c.attr();
            }
            attrMisses.increment();
        }
        long before = version(node);
        Attr fresh = delegate.getattr(ctx, node, fh);
        Attr last = lastSeen.get(node);
        if (version(node) != before) {
            return fresh; // a mutation raced this read: cache nothing
        }
        if (last != null && differs(last, fresh)) {
            changed(node, 0); // the backend changed behind our back: nobody here made it
        } else if (enabled) {
            cacheAttr(node, fresh, before);
        }
        bounded(lastSeen, maxEntries).put(node, fresh);
        return fresh;
    }

    private static boolean differs(Attr a, Attr b) {
        return a.size() != b.size() || a.mtimeNs() != b.mtimeNs() || a.ctimeNs() != b.ctimeNs();
    }

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        OpenResult r = delegate.open(ctx, node, flags);
        if ((flags & io.vfsgw.spi.OpenFlags.O_TRUNC) != 0) {
            changed(node);
        }
        return r;
    }

    // ---- mutations: delegate, then invalidate ----

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr changes) throws FsException {
        try {
            return delegate.setattr(ctx, node, changes);
        } finally {
            changed(node);
        }
    }

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        long start = versionSeq.get();
        Entry e = delegate.symlink(ctx, parent, name, target);
        entryChanged(parent, name);
        remember(parent, name, e, start);
        return e;
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        long start = versionSeq.get();
        Entry e = delegate.mknod(ctx, parent, name, mode, rdev, umask);
        entryChanged(parent, name);
        remember(parent, name, e, start);
        return e;
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        long start = versionSeq.get();
        Entry e = delegate.mkdir(ctx, parent, name, mode, umask);
        entryChanged(parent, name);
        remember(parent, name, e, start);
        return e;
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        learnChild(ctx, parent, name);
        try {
            delegate.unlink(ctx, parent, name);
        } finally {
            entryChanged(parent, name);
        }
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        learnChild(ctx, parent, name);
        try {
            delegate.rmdir(ctx, parent, name);
        } finally {
            entryChanged(parent, name);
        }
    }

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        learnChild(ctx, parent, name);
        learnChild(ctx, newParent, newName);
        EntryKey from = new EntryKey(parent, name);
        EntryKey to = new EntryKey(newParent, newName);
        Long moving = children.get(from);
        Long other = children.get(to);
        try {
            delegate.rename(ctx, parent, name, newParent, newName, flags);
        } finally {
            entryChanged(parent, name);
            entryChanged(newParent, newName);
        }
        // Renamed: the moved node keeps its id under the new name (and, exchanged, the other one under
        // the old name): known there, a later rename or unlink by that name still reaches its cached
        // attributes (ctime, link count). The kernel sends those without a LOOKUP, from the dentry it moved.
        if (moving != null) {
            rememberChild(to, moving);
        }
        if (other != null && (flags & RENAME_EXCHANGE) != 0) {
            rememberChild(from, other);
        }
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        long start = versionSeq.get();
        Entry e = delegate.link(ctx, node, newParent, newName);
        changed(node);   // so its attributes are not cached here: the next getattr reads them
        entryChanged(newParent, newName);
        remember(newParent, newName, e, start);
        return e;
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        long start = versionSeq.get();
        CreateResult r = delegate.create(ctx, parent, name, mode, flags, umask);
        entryChanged(parent, name);
        remember(parent, name, r.entry(), start);
        return r;
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        try {
            return delegate.write(ctx, node, fh, offset, data, killSuidGid);
        } finally {
            changed(node);
        }
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        try {
            delegate.setxattr(ctx, node, name, value, flags);
        } finally {
            changed(node);
        }
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        try {
            delegate.removexattr(ctx, node, name);
        } finally {
            changed(node);
        }
    }

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        try {
            delegate.fallocate(ctx, node, fh, mode, offset, length);
        } finally {
            changed(node);
        }
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut,
                              long offOut, long length, int flags) throws FsException {
        try {
            return delegate.copyFileRange(ctx, nodeIn, fhIn, offIn, nodeOut, fhOut, offOut, length, flags);
        } finally {
            changed(nodeOut);
        }
    }

}
