package io.vfsgw.session;

import io.vfsgw.fuse.AttrOut;
import io.vfsgw.fuse.CopyFileRangeIn;
import io.vfsgw.fuse.CreateIn;
import io.vfsgw.fuse.Dirent;
import io.vfsgw.fuse.Direntplus;
import io.vfsgw.fuse.EntryOut;
import io.vfsgw.fuse.FallocateIn;
import io.vfsgw.fuse.FileLock;
import io.vfsgw.fuse.FlushIn;
import io.vfsgw.fuse.ForgetOne;
import io.vfsgw.fuse.FuseAttr;
import io.vfsgw.fuse.GetattrIn;
import io.vfsgw.fuse.GetxattrIn;
import io.vfsgw.fuse.Kstatfs;
import io.vfsgw.fuse.LinkIn;
import io.vfsgw.fuse.LkIn;
import io.vfsgw.fuse.LkOut;
import io.vfsgw.fuse.LseekIn;
import io.vfsgw.fuse.LseekOut;
import io.vfsgw.fuse.MalformedRequestException;
import io.vfsgw.fuse.MkdirIn;
import io.vfsgw.fuse.MknodIn;
import io.vfsgw.fuse.OpenIn;
import io.vfsgw.fuse.OpenOut;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.ReadIn;
import io.vfsgw.fuse.ReleaseIn;
import io.vfsgw.fuse.Rename2In;
import io.vfsgw.fuse.RequestFlags;
import io.vfsgw.fuse.SetattrIn;
import io.vfsgw.fuse.SetattrValid;
import io.vfsgw.fuse.WriteIn;
import io.vfsgw.fuse.WriteOut;
import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.DirEntry;
import io.vfsgw.spi.DirSink;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.Lock;
import io.vfsgw.spi.OpenResult;
import io.vfsgw.spi.ReadSink;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StatFs;
import io.vfsgw.spi.StorageBackend;
import io.vfsgw.spi.WriteSource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The SPI spoken as FUSE requests to a {@link FuseSession}: each call is encoded as the kernel
 * would send it, goes through the session (its decoding, its node and handle tables, its reply
 * encoding, split over virtio-sized buffers now and then) to the backend below, and its reply is
 * decoded back. Lets SPI-level tests such as {@code HostileCalls} drive the whole request path.
 * Entries a READDIRPLUS hands out are forgotten at once, as a kernel dropping the dentries would.
 */
public final class FuseWireBackend implements StorageBackend {
    private static final int MAX_READ = 128 << 10;

    /** Uniques each further process of one guest starts from, so no two in flight are the same. */
    private static final long UNIQUES_PER_PROCESS = 1L << 40;

    private final FuseSession session;
    private final GuestLink.Connection link;
    private final FuseHarness fuse;
    private final Random layouts;
    /** Whether closing ends the guest (its first process), or only this process's calls. */
    private final boolean ownsLink;
    private int processes = 1;

    /** Starts the session with INIT as a 7.38 kernel offering everything; {@code seed} picks reply layouts. */
    public FuseWireBackend(FuseSession session, long seed) {
        this(session, GuestLink.inProcess(session), seed);
    }

    /** As {@link #FuseWireBackend(FuseSession, long)}, the requests carried to the session by {@code link}. */
    public static FuseWireBackend over(GuestLink link, FuseSession session, long seed) throws Exception {
        return new FuseWireBackend(session, link.connect(session), seed);
    }

    private FuseWireBackend(FuseSession session, GuestLink.Connection link, long seed) {
        this.session = session;
        this.link = link;
        this.fuse = FuseHarness.over(link);
        this.layouts = new Random(seed);
        this.ownsLink = true;
        fuse.init();
    }

    private FuseWireBackend(FuseWireBackend guest, long seed, long firstUnique) {
        this.session = guest.session;
        this.link = guest.link;
        this.fuse = FuseHarness.over(link).uniquesFrom(firstUnique);
        this.layouts = new Random(seed);
        this.ownsLink = false;
    }

    /**
     * Another process of this guest: its requests go over the same connection to the same session
     * (its own uniques, credentials and layouts), at the same time as this one's. Closing it ends
     * nothing; the guest ends when its first process closes.
     */
    public synchronized FuseWireBackend anotherProcess(long seed) {
        return new FuseWireBackend(this, seed, UNIQUES_PER_PROCESS * processes++);
    }

    /** The session's count of requests that hit an unexpected exception (a bug; must stay 0). */
    public long bugCount() {
        return session.bugCount();
    }

    /** Times a request was completed more than once, or a reply arrived for none (must stay 0). */
    public int extraCompletions() {
        return fuse.extraCompletions() + link.strayReplies();
    }

    @Override
    public String name() {
        return "wire";
    }

    // ------------------------------------------------------------------ names and nodes

    @Override
    public Entry lookup(RequestContext ctx, long parent, FileName name) throws FsException {
        Entry e = entry(call(ctx, Opcode.LOOKUP, parent, FuseHarness.args(nul(name))));
        if (e.nodeId() == 0) {
            throw FsException.of(Errno.ENOENT, "a negative entry"); // what the kernel caches for a miss
        }
        return e;
    }

    @Override
    public void forget(long node, long nlookup) {
        FuseHarness.HarnessReply r = layouts.nextBoolean()
                ? fuse.forget(node, nlookup)
                : fuse.batchForget(new ForgetOne(node, nlookup));
        if (r.replied()) {
            throw new AssertionError("a FORGET was answered");
        }
    }

    @Override
    public Attr getattr(RequestContext ctx, long node, long fh) throws FsException {
        ByteBuffer body = call(ctx, Opcode.GETATTR, node, FuseHarness.args(new GetattrIn(0, 0)));
        return attr(decode(() -> AttrOut.decode(body)).attr());
    }

    @Override
    public Attr setattr(RequestContext ctx, long node, SetAttr c) throws FsException {
        int valid = 0;
        valid |= c.mode() != null ? SetattrValid.FATTR_MODE : 0;
        valid |= c.uid() != null ? SetattrValid.FATTR_UID : 0;
        valid |= c.gid() != null ? SetattrValid.FATTR_GID : 0;
        valid |= c.size() != null ? SetattrValid.FATTR_SIZE : 0;
        valid |= c.atimeNs() != null ? SetattrValid.FATTR_ATIME : 0;
        valid |= c.atimeNow() ? SetattrValid.FATTR_ATIME | SetattrValid.FATTR_ATIME_NOW : 0;
        valid |= c.mtimeNs() != null ? SetattrValid.FATTR_MTIME : 0;
        valid |= c.mtimeNow() ? SetattrValid.FATTR_MTIME | SetattrValid.FATTR_MTIME_NOW : 0;
        valid |= c.ctimeNs() != null ? SetattrValid.FATTR_CTIME : 0;
        valid |= c.fh() != null ? SetattrValid.FATTR_FH : 0;
        valid |= c.killSuidGid() ? SetattrValid.FATTR_KILL_SUIDGID : 0;
        long at = c.atimeNs() != null ? c.atimeNs() : 0;
        long mt = c.mtimeNs() != null ? c.mtimeNs() : 0;
        long ct = c.ctimeNs() != null ? c.ctimeNs() : 0;
        SetattrIn in = new SetattrIn(valid, c.fh() != null ? c.fh() : 0, c.size() != null ? c.size() : 0, 0,
                Math.floorDiv(at, 1_000_000_000L), Math.floorDiv(mt, 1_000_000_000L), Math.floorDiv(ct, 1_000_000_000L),
                (int) Math.floorMod(at, 1_000_000_000L), (int) Math.floorMod(mt, 1_000_000_000L),
                (int) Math.floorMod(ct, 1_000_000_000L),
                c.mode() != null ? c.mode() : 0, c.uid() != null ? c.uid() : 0, c.gid() != null ? c.gid() : 0);
        ByteBuffer body = call(ctx, Opcode.SETATTR, node, FuseHarness.args(in));
        return attr(decode(() -> AttrOut.decode(body)).attr());
    }

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        return bytes(call(ctx, Opcode.READLINK, node, FuseHarness.args()));
    }

    @Override
    public Entry symlink(RequestContext ctx, long parent, FileName name, byte[] target) throws FsException {
        return entry(call(ctx, Opcode.SYMLINK, parent, FuseHarness.args(nul(name), nul(target))));
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, FileName name, int mode, int rdev, int umask)
            throws FsException {
        return entry(call(ctx, Opcode.MKNOD, parent, FuseHarness.args(new MknodIn(mode, rdev, umask), nul(name))));
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, FileName name, int mode, int umask) throws FsException {
        return entry(call(ctx, Opcode.MKDIR, parent, FuseHarness.args(new MkdirIn(mode, umask), nul(name))));
    }

    @Override
    public void unlink(RequestContext ctx, long parent, FileName name) throws FsException {
        call(ctx, Opcode.UNLINK, parent, FuseHarness.args(nul(name)));
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, FileName name) throws FsException {
        call(ctx, Opcode.RMDIR, parent, FuseHarness.args(nul(name)));
    }

    @Override
    public void rename(RequestContext ctx, long parent, FileName name, long newParent, FileName newName, int flags)
            throws FsException {
        call(ctx, Opcode.RENAME2, parent, FuseHarness.args(new Rename2In(newParent, flags), nul(name), nul(newName)));
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, FileName newName) throws FsException {
        return entry(call(ctx, Opcode.LINK, newParent, FuseHarness.args(new LinkIn(node), nul(newName))));
    }

    // ------------------------------------------------------------------ files

    @Override
    public OpenResult open(RequestContext ctx, long node, int flags) throws FsException {
        return openResult(call(ctx, Opcode.OPEN, node, FuseHarness.args(new OpenIn(flags, 0))));
    }

    @Override
    public CreateResult create(RequestContext ctx, long parent, FileName name, int mode, int flags, int umask)
            throws FsException {
        return created(call(ctx, Opcode.CREATE, parent, FuseHarness.args(new CreateIn(flags, mode, umask, 0), nul(name))));
    }

    @Override
    public CreateResult tmpfile(RequestContext ctx, long parent, int mode, int flags, int umask) throws FsException {
        return created(call(ctx, Opcode.TMPFILE, parent, FuseHarness.args(new CreateIn(flags, mode, umask, 0),
                nul(FileName.of("tmpfile")))));
    }

    @Override
    public void read(RequestContext ctx, long node, long fh, long offset, ReadSink sink) throws FsException {
        int size = Math.min(sink.remaining(), MAX_READ);
        sink.put(call(ctx, Opcode.READ, node, FuseHarness.args(new ReadIn(fh, offset, size, 0, 0, 0))));
    }

    @Override
    public int write(RequestContext ctx, long node, long fh, long offset, WriteSource data, boolean killSuidGid)
            throws FsException {
        ByteBuffer bytes = FuseHarness.buf(data.remaining());
        data.copyTo(bytes);
        bytes.flip();
        WriteIn in = new WriteIn(fh, offset, bytes.remaining(), killSuidGid ? RequestFlags.FUSE_WRITE_KILL_SUIDGID : 0,
                0, 0);
        ByteBuffer body = call(ctx, Opcode.WRITE, node, FuseHarness.args(in), bytes);
        return decode(() -> WriteOut.decode(body)).size();
    }

    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        call(ctx, Opcode.FLUSH, node, FuseHarness.args(new FlushIn(fh, lockOwner)));
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags, long lockOwner) throws FsException {
        call(ctx, Opcode.RELEASE, node, FuseHarness.args(new ReleaseIn(fh, flags, 0, lockOwner)));
    }

    // ------------------------------------------------------------------ directories

    @Override
    public OpenResult opendir(RequestContext ctx, long node, int flags) throws FsException {
        return openResult(call(ctx, Opcode.OPENDIR, node, FuseHarness.args(new OpenIn(flags, 0))));
    }

    /** One READDIR or READDIRPLUS reply's entries, until the sink is full; no entries at the end. */
    @Override
    public void readdir(RequestContext ctx, long node, long fh, long cookie, DirSink sink) throws FsException {
        as(ctx);
        List<Dirent> entries = new ArrayList<>();
        try {
            if (layouts.nextBoolean()) {
                for (Direntplus d : fuse.readdirplus(node, fh, cookie, 4096)) {
                    if (d.entryOut().nodeid() != 0) {
                        forget(d.entryOut().nodeid(), 1);
                    }
                    entries.add(d.dirent());
                }
            } else {
                entries.addAll(fuse.readdir(node, fh, cookie, 4096));
            }
        } catch (FuseHarness.FuseError e) {
            throw FsException.of(e.errno(), "READDIR through the session");
        }
        for (Dirent d : entries) {
            FileType type = FileType.ofDirentType(d.type());
            if (!sink.add(new DirEntry(FileName.of(d.name()), d.ino(), type, d.off()))) {
                return;
            }
        }
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh) throws FsException {
        call(ctx, Opcode.RELEASEDIR, node, FuseHarness.args(new ReleaseIn(fh, 0, 0, 0)));
    }

    @Override
    public StatFs statfs(RequestContext ctx, long node) throws FsException {
        as(ctx);
        ByteBuffer body = answer(Opcode.STATFS, fuse.statfsReply(node));
        Kstatfs k = decode(() -> Kstatfs.decode(body));
        return new StatFs(k.blocks(), k.bfree(), k.bavail(), k.files(), k.ffree(), k.bsize(), k.namelen(), k.frsize());
    }

    // ------------------------------------------------------------------ xattrs, space, locks

    @Override
    public byte[] getxattr(RequestContext ctx, long node, String name) throws FsException {
        as(ctx);
        return bytes(answer(Opcode.GETXATTR, fuse.getxattr(node, name, 64 << 10)));
    }

    @Override
    public void setxattr(RequestContext ctx, long node, String name, byte[] value, int flags) throws FsException {
        as(ctx);
        answer(Opcode.SETXATTR, fuse.setxattr(node, name, ByteBuffer.wrap(value), flags));
    }

    @Override
    public List<String> listxattr(RequestContext ctx, long node) throws FsException {
        byte[] all = bytes(call(ctx, Opcode.LISTXATTR, node, FuseHarness.args(new GetxattrIn(64 << 10))));
        List<String> names = new ArrayList<>();
        for (int start = 0, i = 0; i < all.length; i++) {
            if (all[i] == 0) {
                names.add(new String(all, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return names;
    }

    @Override
    public void removexattr(RequestContext ctx, long node, String name) throws FsException {
        call(ctx, Opcode.REMOVEXATTR, node, FuseHarness.args(FuseHarness.names(name)));
    }

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        call(ctx, Opcode.FALLOCATE, node, FuseHarness.args(new FallocateIn(fh, offset, length, mode)));
    }

    @Override
    public long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        ByteBuffer body = call(ctx, Opcode.LSEEK, node, FuseHarness.args(new LseekIn(fh, offset, whence)));
        return decode(() -> LseekOut.decode(body)).offset();
    }

    @Override
    public long copyFileRange(RequestContext ctx, long nodeIn, long fhIn, long offIn, long nodeOut, long fhOut,
                              long offOut, long len, int flags) throws FsException {
        ByteBuffer body = call(ctx, Opcode.COPY_FILE_RANGE, nodeIn,
                FuseHarness.args(new CopyFileRangeIn(fhIn, offIn, nodeOut, fhOut, offOut, len, flags)));
        return Integer.toUnsignedLong(decode(() -> WriteOut.decode(body)).size());
    }

    @Override
    public Lock getlk(RequestContext ctx, long node, long fh, Lock lock) throws FsException {
        ByteBuffer body = call(ctx, Opcode.GETLK, node, FuseHarness.args(lkIn(fh, lock, false)));
        FileLock l = decode(() -> LkOut.decode(body)).lk();
        return new Lock(l.type(), l.start(), l.end(), lock.owner(), l.pid());
    }

    @Override
    public void setlk(RequestContext ctx, long node, long fh, Lock lock, boolean sleep, boolean flock)
            throws FsException {
        call(ctx, sleep ? Opcode.SETLKW : Opcode.SETLK, node, FuseHarness.args(lkIn(fh, lock, flock)));
    }

    /** Ends the session (DESTROY's work: everything the guest still holds goes back to the backend). */
    @Override
    public void close() {
        if (ownsLink) {
            link.close();
        }
    }

    // ------------------------------------------------------------------ encoding and decoding

    private interface Decoder<T> {
        T decode() throws MalformedRequestException;
    }

    /** Sends one request as {@code ctx}, on a reply layout picked at random; an error reply becomes its FsException. */
    private ByteBuffer call(RequestContext ctx, Opcode op, long node, ByteBuffer args) throws FsException {
        return call(ctx, op, node, args, null);
    }

    private ByteBuffer call(RequestContext ctx, Opcode op, long node, ByteBuffer args, ByteBuffer data)
            throws FsException {
        as(ctx);
        return answer(op, fuse.request(op, node, args, data));
    }

    /** The next request comes from {@code ctx}, on a reply layout picked at random. */
    private void as(RequestContext ctx) {
        fuse.credentials(ctx.uid(), ctx.gid(), ctx.pid());
        fuse.layout(layouts.nextInt(3) == 0 ? FuseHarness.Layout.virtio(4096) : FuseHarness.Layout.devFuse());
    }

    /** The body of a success; an error reply becomes its FsException. */
    private static ByteBuffer answer(Opcode op, FuseHarness.HarnessReply r) throws FsException {
        if (!r.replied()) {
            throw new AssertionError(op + " got no reply");
        }
        if (!r.ok()) {
            throw FsException.of(r.errno(), op + " through the session");
        }
        return r.body();
    }

    private static <T> T decode(Decoder<T> d) {
        try {
            return d.decode();
        } catch (MalformedRequestException e) {
            throw new AssertionError("the session sent a reply that does not decode", e);
        }
    }

    private static Entry entry(ByteBuffer body) {
        EntryOut e = decode(() -> EntryOut.decode(body));
        return new Entry(e.nodeid(), e.generation(), attr(e.attr()));
    }

    private static OpenResult openResult(ByteBuffer body) {
        OpenOut o = decode(() -> OpenOut.decode(body));
        return OpenResult.of(o.fh());
    }

    private static CreateResult created(ByteBuffer body) {
        Entry e = entry(body);
        return new CreateResult(e, openResult(body));
    }

    private static Attr attr(FuseAttr a) {
        return new Attr(a.ino(), a.size(), a.blocks(), a.atime() * 1_000_000_000L + a.atimensec(),
                a.mtime() * 1_000_000_000L + a.mtimensec(), a.ctime() * 1_000_000_000L + a.ctimensec(),
                a.mode(), a.nlink(), a.uid(), a.gid(), a.rdev(), a.blksize());
    }

    private static LkIn lkIn(long fh, Lock lock, boolean flock) {
        return new LkIn(fh, lock.owner(), new FileLock(lock.start(), lock.end(), lock.type(), lock.pid()),
                flock ? RequestFlags.FUSE_LK_FLOCK : 0);
    }

    private static byte[] bytes(ByteBuffer body) {
        byte[] b = new byte[body.remaining()];
        body.get(b);
        return b;
    }

    private static byte[] nul(FileName name) {
        return nul(name.bytes());
    }

    private static byte[] nul(byte[] b) {
        return Arrays.copyOf(b, b.length + 1);
    }
}
