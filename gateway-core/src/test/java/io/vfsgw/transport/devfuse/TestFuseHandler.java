package io.vfsgw.transport.devfuse;

import io.vfsgw.session.FuseRequestHandler;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test scaffolding only: the smallest FUSE filesystem the kernel will mount, an empty root
 * directory. Answers INIT, GETATTR (root), STATFS, OPENDIR/READDIR (empty)/RELEASEDIR, LOOKUP
 * (ENOENT), ignores FORGET/INTERRUPT, and answers ENOSYS to everything else. Bytes are built by
 * hand from linux/fuse.h 7.38; the real session replaces all of this.
 */
final class TestFuseHandler implements FuseRequestHandler {
    static final long ROOT_MTIME = 1_700_000_000L;
    static final long STATFS_BLOCKS = 1000;
    static final int STATFS_FRSIZE = 4096;

    private static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, STATFS = 17, INIT = 26, OPENDIR = 27,
            READDIR = 28, RELEASEDIR = 29, INTERRUPT = 36, DESTROY = 38, BATCH_FORGET = 42;
    private static final int ENOENT = 2, ENOSYS = 38;

    private final int maxWrite;
    private final Executor replyExecutor;
    final Set<String> threadsSeen = ConcurrentHashMap.newKeySet();
    final AtomicInteger inits = new AtomicInteger();
    final AtomicInteger getattrs = new AtomicInteger();
    private volatile CountDownLatch getattrGate;

    /** @param replyExecutor where complete() runs: Runnable::run for inline, another thread for async */
    TestFuseHandler(int maxWrite, Executor replyExecutor) {
        this.maxWrite = maxWrite;
        this.replyExecutor = replyExecutor;
    }

    TestFuseHandler() {
        this(MountOptions.DEFAULT_MAX_WRITE, Runnable::run);
    }

    /**
     * From now on each GETATTR waits (up to 10 s) until {@code n} GETATTRs are in flight at once,
     * which can only happen when n workers serve in parallel.
     */
    void gateGetattr(int n) {
        getattrGate = new CountDownLatch(n);
    }

    @Override
    public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
        ByteBuffer in = request[0];
        ByteBuffer out = reply[0];
        int opcode = in.getInt(4);
        long unique = in.getLong(8);
        long nodeid = in.getLong(16);
        threadsSeen.add(Thread.currentThread().getName());
        int bodyLength;
        switch (opcode) {
            case INIT -> {
                inits.incrementAndGet();
                // fuse_init_out, 64 bytes
                out.putInt(16, 7).putInt(20, 38).putInt(24, in.getInt(48)) // major, minor, max_readahead
                        .putInt(28, 0).putShort(32, (short) 16).putShort(34, (short) 12) // flags, bg, congestion
                        .putInt(36, maxWrite).putInt(40, 1).putShort(44, (short) 0).putShort(46, (short) 0)
                        .putInt(48, 0);
                for (int i = 52; i < 80; i += 4) {
                    out.putInt(i, 0);
                }
                bodyLength = 64;
            }
            case GETATTR -> {
                if (nodeid != 1) {
                    answer(out, unique, -ENOENT, 0, completion);
                    return;
                }
                getattrs.incrementAndGet();
                awaitGate();
                // fuse_attr_out: attr_valid 0 so every stat reaches us, then a 88-byte fuse_attr
                out.putLong(16, 0).putInt(24, 0).putInt(28, 0);
                out.putLong(32, 1).putLong(40, 4096).putLong(48, 8)          // ino, size, blocks
                        .putLong(56, ROOT_MTIME).putLong(64, ROOT_MTIME).putLong(72, ROOT_MTIME)
                        .putInt(80, 0).putInt(84, 0).putInt(88, 0)           // a/m/ctime nsec
                        .putInt(92, 040755).putInt(96, 2).putInt(100, 0).putInt(104, 0) // mode nlink uid gid
                        .putInt(108, 0).putInt(112, 4096).putInt(116, 0);    // rdev blksize flags
                bodyLength = 104;
            }
            case STATFS -> {
                out.putLong(16, STATFS_BLOCKS).putLong(24, 500).putLong(32, 500).putLong(40, 100).putLong(48, 50)
                        .putInt(56, STATFS_FRSIZE).putInt(60, 255).putInt(64, STATFS_FRSIZE).putInt(68, 0);
                for (int i = 72; i < 96; i += 4) {
                    out.putInt(i, 0);
                }
                bodyLength = 80;
            }
            case OPENDIR -> {
                out.putLong(16, 1).putInt(24, 0).putInt(28, 0); // fuse_open_out: fh 1
                bodyLength = 16;
            }
            case READDIR, RELEASEDIR, DESTROY -> bodyLength = 0; // READDIR: no entries at all
            case LOOKUP -> {
                answer(out, unique, -ENOENT, 0, completion);
                return;
            }
            case FORGET, BATCH_FORGET, INTERRUPT -> {
                replyExecutor.execute(() -> completion.complete(0));
                return;
            }
            default -> {
                answer(out, unique, -ENOSYS, 0, completion);
                return;
            }
        }
        answer(out, unique, 0, bodyLength, completion);
    }

    private void answer(ByteBuffer out, long unique, int error, int bodyLength, ReplyCompletion completion) {
        out.putInt(0, 16 + bodyLength).putInt(4, error).putLong(8, unique);
        replyExecutor.execute(() -> completion.complete(16 + bodyLength));
    }

    private void awaitGate() {
        CountDownLatch gate = getattrGate;
        if (gate != null) {
            gate.countDown();
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
