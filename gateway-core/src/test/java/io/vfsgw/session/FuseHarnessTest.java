package io.vfsgw.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.fuse.InHeader;
import io.vfsgw.fuse.Opcode;
import io.vfsgw.fuse.OutHeader;
import io.vfsgw.spi.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness itself, against hand-written handlers: layouts, reply parsing, completion checks. */
class FuseHarnessTest {
    /** Records the views it was handed and answers with the request's argument bytes echoed back. */
    private static final class Echo implements FuseRequestHandler {
        final List<Integer> requestSizes = new ArrayList<>();
        final List<Integer> replySizes = new ArrayList<>();

        @Override
        public void handle(ByteBuffer[] request, ByteBuffer[] reply, ReplyCompletion completion) {
            requestSizes.clear();
            replySizes.clear();
            for (ByteBuffer b : request) {
                requestSizes.add(b.remaining());
            }
            for (ByteBuffer b : reply) {
                replySizes.add(b.remaining());
            }
            int total = Segments.totalLength(request);
            Segments in = new Segments(request, total);
            ByteBuffer hdr = ByteBuffer.allocate(InHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            in.copyTo(hdr, InHeader.SIZE);
            long unique = hdr.getLong(8);
            ByteBuffer out = ByteBuffer.allocate(OutHeader.SIZE + total - InHeader.SIZE).order(ByteOrder.LITTLE_ENDIAN);
            new OutHeader(out.capacity(), 0, unique).encodeTo(out);
            in.copyTo(out, total - InHeader.SIZE);
            out.flip();
            new Segments(reply, Segments.totalLength(reply)).put(out);
            completion.complete(out.limit());
        }
    }

    @Test
    void virtioLayoutSplitsHeaderArgumentsAndPages() {
        Echo echo = new Echo();
        FuseHarness h = FuseHarness.over(echo).layout(FuseHarness.Layout.virtio(1000).withReplyCapacity(16 + 2500));
        ByteBuffer data = ByteBuffer.allocate(2300);
        for (int i = 0; i < data.capacity(); i++) {
            data.put(i, (byte) i);
        }
        FuseHarness.HarnessReply r = h.request(Opcode.WRITE, 1, ByteBuffer.allocate(40), data);
        assertEquals(List.of(40, 40, 1000, 1000, 300), echo.requestSizes);
        assertEquals(List.of(16, 1000, 1000, 500), echo.replySizes);
        assertTrue(r.ok());
        ByteBuffer body = r.expectOk();
        assertEquals(2340, body.remaining());
        for (int i = 0; i < 2300; i++) {
            assertEquals((byte) i, body.get(40 + i));
        }
    }

    @Test
    void devFuseLayoutIsOneBufferEachWay() {
        Echo echo = new Echo();
        FuseHarness h = FuseHarness.over(echo);
        h.request(Opcode.LOOKUP, 1, FuseHarness.args(FuseHarness.names("abc")));
        assertEquals(List.of(44), echo.requestSizes);
        assertEquals(List.of(FuseHarness.Layout.DEFAULT_REPLY_CAPACITY), echo.replySizes);
    }

    @Test
    void errorsAndMissingRepliesAreReported() {
        FuseHarness h = FuseHarness.over((req, rep, done) -> done.complete(0));
        assertFalse(h.request(Opcode.FORGET, 1, ByteBuffer.allocate(8)).replied());

        FuseHarness err = FuseHarness.over((req, rep, done) -> {
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            new OutHeader(16, -Errno.ENOENT.code(), req[0].getLong(8)).encodeTo(b);
            rep[0].put(0, b.flip(), 0, 16);
            done.complete(16);
        });
        assertEquals(Errno.ENOENT, err.request(Opcode.LOOKUP, 1, ByteBuffer.allocate(2)).errno());
        FuseHarness.FuseError e = assertThrows(FuseHarness.FuseError.class, () -> err.lookup(1, "x"));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void doubleCompletionsAndWrongUniquesAreCaught() {
        FuseHarness twice = FuseHarness.over((req, rep, done) -> {
            done.complete(0);
            done.complete(0);
        });
        twice.request(Opcode.FORGET, 1, ByteBuffer.allocate(8));
        assertEquals(1, twice.extraCompletions());

        FuseHarness wrong = FuseHarness.over((req, rep, done) -> {
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            new OutHeader(16, 0, 999_999).encodeTo(b);
            rep[0].put(0, b.flip(), 0, 16);
            done.complete(16);
        });
        assertThrows(AssertionError.class, () -> wrong.request(Opcode.GETATTR, 1, ByteBuffer.allocate(0)));

        FuseHarness lying = FuseHarness.over((req, rep, done) -> {
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            new OutHeader(32, 0, req[0].getLong(8)).encodeTo(b);
            rep[0].put(0, b.flip(), 0, 16);
            done.complete(16);
        });
        assertThrows(AssertionError.class, () -> lying.request(Opcode.GETATTR, 1, ByteBuffer.allocate(0)),
                "out-header len must match the completed length");
    }

    @Test
    void credentialsAndUniquesGoIntoTheHeader() {
        List<InHeader> seen = new ArrayList<>();
        FuseHarness h = FuseHarness.over((req, rep, done) -> {
            try {
                seen.add(InHeader.decode(req[0].duplicate().order(ByteOrder.LITTLE_ENDIAN)));
            } catch (io.vfsgw.fuse.MalformedRequestException e) {
                throw new AssertionError(e);
            }
            done.complete(0);
        }).credentials(1000, 100, 55);
        long u = h.peekUnique();
        h.request(Opcode.GETATTR, 7, ByteBuffer.allocate(0));
        h.request(Opcode.GETATTR, 7, ByteBuffer.allocate(0));
        assertEquals(new InHeader(40, Opcode.GETATTR.code(), u, 7, 1000, 100, 55, 0), seen.get(0));
        assertEquals(u + 1, seen.get(1).unique());
    }
}
