package io.vfsgw.backend.posix;

import static io.vfsgw.spi.StorageBackend.ROOT_ID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FORGET racing operations must never let an operation act on a reused fd number (another file). */
class PosixBackendConcurrencyTest {
    @TempDir
    Path src;

    @Test
    void forgetRacingGetattrNeverAnswersForAnotherFile() throws Exception {
        Files.write(src.resolve("one"), new byte[1]);
        for (int i = 0; i < 8; i++) {
            Files.write(src.resolve("other" + i), new byte[2]);
        }
        RequestContext ctx = RequestContext.ROOT;
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        try (PosixBackend fs = PosixBackend.open(PosixOptions.of(src))) {
            long before = fs.nodeCount();
            CountDownLatch started = new CountDownLatch(2);
            Thread churn = new Thread(() -> {
                started.countDown();
                int i = 0;
                while (!stop.get()) {
                    try {
                        Entry e = fs.lookup(ctx, ROOT_ID, FileName.literal("other" + (i++ % 8)));
                        fs.forget(e.nodeId(), 1);
                    } catch (FsException e) {
                        problems.add("churn: " + e);
                    }
                }
            });
            Thread victim = new Thread(() -> {
                started.countDown();
                for (int round = 0; round < 20_000; round++) {
                    try {
                        Entry e = fs.lookup(ctx, ROOT_ID, FileName.literal("one"));
                        fs.forget(e.nodeId(), 1); // drop it while... 
                        Attr a = fs.getattr(ctx, e.nodeId(), -1); // ...still asking: ESTALE or size 1
                        if (a.size() != 1) {
                            problems.add("answered for another file: size " + a.size());
                        }
                    } catch (FsException e) {
                        if (e.errno() != Errno.ESTALE) {
                            problems.add("victim: " + e);
                        }
                    }
                }
            });
            churn.start();
            victim.start();
            started.await();
            victim.join();
            stop.set(true);
            churn.join();
            assertTrue(problems.isEmpty(), problems.toString());
            assertEquals(before, fs.nodeCount()); // every lookup was returned
        }
    }
}
