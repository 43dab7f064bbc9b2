package io.vfsgw.backend.s3;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One process at a time per S3 cache directory. A second gateway on the same directory (two
 * buckets on the default {@code $TMPDIR/vfsgw-s3}) would empty the first's chunk cache at its start
 * and report the first's live staging files as a crash's leftovers, which {@code vfsgw s3 recover
 * --upload} would then upload half-written and delete. The lock is a record lock on
 * {@code <dir>/.vfsgw.lock}, released by the kernel when the process dies, so a crash never leaves
 * it behind. Within one process (tests, an embedding program) backends share it.
 */
public final class CacheDirLock implements AutoCloseable {
    private static final String NAME = ".vfsgw.lock";
    /** How long a start waits for the holder to go before refusing. */
    static final long HOLDER_EXIT_WAIT_MS = 3000;
    /** Lock file path -> the process's hold on it and how many users it has. Guarded by itself. */
    private static final Map<Path, Held> HELD = new HashMap<>();

    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        int users;

        Held(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }
    }

    private final Path file;
    private boolean closed;

    private CacheDirLock(Path file) {
        this.file = file;
    }

    /**
     * Takes {@code dir} (created if missing) for this process.
     *
     * @throws IllegalStateException when another process holds it, saying which and what to do
     */
    public static CacheDirLock acquire(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(NAME).toAbsolutePath().normalize();
        synchronized (HELD) {
            Held h = HELD.get(file);
            if (h == null) {
                FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                FileLock lock;
                try {
                    lock = tryLockAwhile(ch);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                if (lock == null) {
                    String holder = readHolder(ch);
                    ch.close();
                    throw new IllegalStateException("the S3 cache directory " + dir + " is in use by another vfsgw"
                            + holder + "; give each gateway its own --cache-dir (or stop the other one first)");
                }
                ch.truncate(0);
                ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)), 0);
                h = new Held(ch, lock);
                HELD.put(file, h);
            }
            h.users++;
        }
        return new CacheDirLock(file);
    }

    /**
     * The lock, or null when another process still holds it after {@link #HOLDER_EXIT_WAIT_MS}: a
     * gateway just unmounted ({@code umount; mount} in a script, an fstab remount) releases it a moment
     * after the kernel has let go of the mount, while its JVM shuts down.
     */
    private static FileLock tryLockAwhile(FileChannel ch) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOLDER_EXIT_WAIT_MS);
        FileLock lock = ch.tryLock();
        while (lock == null && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            lock = ch.tryLock();
        }
        return lock;
    }

    private static String readHolder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            int n = ch.read(b, 0);
            String pid = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.US_ASCII).strip();
            return pid.matches("\\d+") ? " (pid " + pid + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        synchronized (HELD) {
            if (closed) {
                return;
            }
            closed = true;
            Held h = HELD.get(file);
            if (h != null && --h.users == 0) {
                HELD.remove(file);
                try {
                    h.lock.release();
                    h.channel.close();
                } catch (IOException e) {
                    // closing the channel drops the lock whatever release said
                }
            }
        }
    }
}
