package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.FsException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * ObjectReader against S3Proxy: READs that arrive slightly out of order (the kernel's read-ahead
 * handed to several workers) keep the read-ahead stream instead of turning into one GET each.
 */
class ObjectReaderIT {
    @TempDir
    Path cache;

    @Test
    void pairwiseSwappedReadsStillStream() throws Exception {
        S3ProxyFixture server = S3ProxyFixture.shared();
        RequestCounter counter = new RequestCounter();
        int size = 16 << 20;
        int piece = 128 << 10;
        byte[] data = new byte[size];
        new Random(11).nextBytes(data);
        try (S3AsyncClient client = server.client(List.of(counter))) {
            client.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("reorder/f"), AsyncRequestBody.fromBytes(data)).join();
            String etag = client.headObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("reorder/f")).join().eTag();
            S3Options o = server.options(cache).cacheSize(0).build();
            counter.reset();
            try (ObjectReader r = new ObjectReader(client, S3ProxyFixture.BUCKET, "reorder/f", etag, size, o)) {
                for (int i = 0; i < size / piece; i += 2) {
                    check(r, data, (long) (i + 1) * piece, piece);   // the later READ first
                    check(r, data, (long) i * piece, piece);
                }
            }
            int gets = counter.get("GetObject");
            System.out.println("ObjectReaderIT: 128 swapped 128 KiB reads of 16 MiB: " + gets + " GETs");
            assertTrue(gets <= 12, "streamed, not one GET per READ: " + gets);

            // groups of four READs in reverse order, each group past the end of what is queued
            counter.reset();
            try (ObjectReader r = new ObjectReader(client, S3ProxyFixture.BUCKET, "reorder/f", etag, size, o)) {
                for (int i = 0; i < size / piece; i += 4) {
                    for (int k = 3; k >= 0; k--) {
                        check(r, data, (long) (i + k) * piece, piece);
                    }
                }
            }
            gets = counter.get("GetObject");
            System.out.println("ObjectReaderIT: 128 128 KiB reads in reversed groups of 4: " + gets + " GETs");
            assertTrue(gets <= 16, "streamed, not one GET per READ: " + gets);
        }
    }

    /**
     * Small random reads each cost one exact GET; when the reader has its bytes it must let the
     * response end rather than cancel it, or the SDK closes the connection and every read pays for
     * a new one (measured: 0.64x of the SDK's own GET rate before, 0.98x after).
     */
    @Test
    void randomReadsReuseConnections() throws Exception {
        S3ProxyFixture server = S3ProxyFixture.shared();
        int size = 8 << 20;
        byte[] data = new byte[size];
        new Random(12).nextBytes(data);
        try (S3AsyncClient putter = server.client(List.of())) {
            putter.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("conn/f"), AsyncRequestBody.fromBytes(data)).join();
        }
        for (S3Options.HttpClient kind : S3Options.HttpClient.values()) {
            try (FaultProxy proxy = new FaultProxy(server.endpoint().getPort());
                 S3AsyncClient client = S3Clients.build(server.options(cache).endpoint(proxy.endpoint())
                         .httpClient(kind).build())) {
                String etag = client.headObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("conn/f")).join().eTag();
                S3Options o = server.options(cache).cacheSize(0).build();
                int before = proxy.connections.get();
                Random rnd = new Random(13);
                try (ObjectReader r = new ObjectReader(client, S3ProxyFixture.BUCKET, "conn/f", etag, size, o)) {
                    for (int i = 0; i < 40; i++) {
                        check(r, data, (long) rnd.nextInt(size / 4096) * 4096, 4096);
                    }
                }
                int opened = proxy.connections.get() - before;
                System.out.println("ObjectReaderIT: 40 random 4 KiB reads (" + kind + "): " + opened + " connections");
                assertTrue(opened <= 4, kind + ": 40 random reads opened " + opened + " connections");
            }
        }
    }

    /**
     * A read-ahead dropped before its response arrives must still take the response and cancel
     * it: a response nobody subscribes to holds its connection until the SDK's 60 s timeout, which
     * then logs a warning with a stack (seen under fsstress, one per dropped read-ahead).
     */
    @Test
    void aStreamCancelledBeforeItsResponseStillReleasesTheResponse() throws Exception {
        S3ProxyFixture server = S3ProxyFixture.shared();
        byte[] data = new byte[1 << 20];
        new Random(14).nextBytes(data);
        for (S3Options.HttpClient kind : S3Options.HttpClient.values()) {
            try (S3AsyncClient client = S3Clients.build(server.options(cache).httpClient(kind).build())) {
                client.putObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("cancel/f"), AsyncRequestBody.fromBytes(data))
                        .join();
                List<RangeStream> streams = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    RangeStream st = RangeStream.open(client, S3ProxyFixture.BUCKET, "cancel/f", null, 0, data.length);
                    st.cancel();   // microseconds after the request left: before any response
                    streams.add(st);
                }
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
                while (!streams.stream().allMatch(RangeStream::responseSettled) && System.nanoTime() < deadline) {
                    Thread.sleep(10);   // polling a condition with a deadline
                }
                long settled = streams.stream().filter(RangeStream::responseSettled).count();
                assertEquals(streams.size(), settled, kind + ": responses taken and cancelled");
            }
        }
    }

    private static void check(ObjectReader r, byte[] data, long off, int len) throws FsException {
        Buffers.Sink sink = new Buffers.Sink(len);
        r.read(off, sink);
        assertEquals(ByteBuffer.wrap(data, (int) off, len), sink.filled(), "bytes at " + off);
    }
}
