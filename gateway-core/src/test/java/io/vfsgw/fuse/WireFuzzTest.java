package io.vfsgw.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random and truncated bytes into the request decoder, every record decoder (all overloads)
 * and the name readers: the only failure allowed is MalformedRequestException, a failed decode does
 * not move the buffer, and a successful one stays inside the limit.
 */
class WireFuzzTest {
    @FunctionalInterface
    interface Decoder {
        Object decode(ByteBuffer b) throws Exception;
    }

    private record Named(String name, Decoder decoder) {
    }

    private static final NegotiatedProtocol OLD = new NegotiatedProtocol(8, 8, 0, 0, 4096, 0, 0, 0);
    private static final NegotiatedProtocol NEW =
            new NegotiatedProtocol(38, 45, -1L, InitFlags.FUSE_SETXATTR_EXT, 1 << 20, 0, 256, 0);

    private static List<Named> decoders() {
        List<Named> all = new ArrayList<>();
        for (WireLayouts.Layout l : WireLayouts.ALL) {
            for (Method m : l.type().getMethods()) {
                if (!m.getName().equals("decode") || m.getParameterTypes()[0] != ByteBuffer.class) {
                    continue;
                }
                Class<?>[] p = m.getParameterTypes();
                String n = l.type().getSimpleName() + ".decode";
                if (p.length == 1) {
                    all.add(new Named(n, b -> invoke(m, b)));
                } else if (p[1] == int.class) {
                    for (int minor : new int[] {3, 8, 11, 22, 38}) {
                        all.add(new Named(n + "(minor " + minor + ")", b -> invoke(m, b, minor)));
                    }
                } else if (p[1] == boolean.class) {
                    all.add(new Named(n + "(true)", b -> invoke(m, b, true)));
                    all.add(new Named(n + "(false)", b -> invoke(m, b, false)));
                } else if (p[1] == NegotiatedProtocol.class) {
                    all.add(new Named(n + "(old)", b -> invoke(m, b, OLD)));
                    all.add(new Named(n + "(new)", b -> invoke(m, b, NEW)));
                } else {
                    fail("unexpected overload " + m);
                }
            }
        }
        all.add(new Named("RequestDecoder.decode", RequestDecoder::decode));
        all.add(new Named("RequestDecoder.decodeHeader", b -> RequestDecoder.decodeHeader(b, b.remaining())));
        all.add(new Named("WireStrings.readName", WireStrings::readName));
        all.add(new Named("WireStrings.readTwoNames", WireStrings::readTwoNames));
        all.add(new Named("WireStrings.readNameAndTarget", WireStrings::readNameAndTarget));
        all.add(new Named("WireStrings.readXattrName", WireStrings::readXattrName));
        return all;
    }

    private static Object invoke(Method m, Object... args) throws Exception {
        try {
            return m.invoke(null, args);
        } catch (InvocationTargetException e) {
            throw (Exception) e.getCause();   // an Error would be a ClassCastException here: also a failure
        }
    }

    @Test
    void onlyMalformedRequestExceptionComesOut() {
        long t0 = System.nanoTime();
        List<Named> decoders = decoders();
        assertTrue(decoders.size() > 70, "only " + decoders.size() + " decoders");
        Random rnd = new Random(0x7_38L);
        int accepted = 0;
        int rejected = 0;
        for (int iter = 0; iter < 2000; iter++) {
            ByteBuffer input = randomInput(rnd);
            for (Named d : decoders) {
                ByteBuffer b = input.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                int pos = b.position();
                try {
                    Object r = d.decoder().decode(b);
                    if (r instanceof DecodedRequest req && iter % 8 == 0) {
                        exerciseBody(req.body(), decoders);
                    }
                    assertTrue(b.position() >= pos && b.position() <= b.limit(), d.name() + " left the buffer");
                    accepted++;
                } catch (MalformedRequestException expected) {
                    assertEquals(pos, b.position(), d.name() + " moved the buffer before failing");
                    rejected++;
                } catch (Exception | AssertionError e) {
                    throw new AssertionError(d.name() + " on iteration " + iter + " threw " + e, e);
                }
            }
        }
        System.out.println("WireFuzzTest: " + decoders.size() + " decoders, " + (accepted + rejected) + " calls in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertTrue(accepted > 500 && rejected > 500, "accepted " + accepted + ", rejected " + rejected);
    }

    private static void exerciseBody(ByteBuffer body, List<Named> decoders) throws Exception {
        for (Named d : decoders) {
            try {
                d.decoder().decode(body.duplicate().order(ByteOrder.LITTLE_ENDIAN));
            } catch (MalformedRequestException expected) {
                // fine
            }
        }
    }

    /** Random bytes at a random position; often a plausible header with a wrong or truncated length. */
    private static ByteBuffer randomInput(Random rnd) {
        int len = switch (rnd.nextInt(4)) {
            case 0 -> rnd.nextInt(16);
            case 1 -> rnd.nextInt(200);
            case 2 -> 40 + rnd.nextInt(200);
            default -> new int[] {8, 16, 24, 40, 64, 88, 128, 152}[rnd.nextInt(8)] + rnd.nextInt(3) - 1;
        };
        int pos = rnd.nextInt(4);
        byte[] bytes = new byte[pos + Math.max(len, 0) + rnd.nextInt(3)];
        rnd.nextBytes(bytes);
        if (rnd.nextInt(3) == 0) {   // sprinkle NULs so name readers sometimes succeed
            for (int i = 0; i < bytes.length; i += 1 + rnd.nextInt(8)) {
                bytes[i] = 0;
            }
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        b.position(pos).limit(pos + Math.max(len, 0));
        if (b.remaining() >= 40 && rnd.nextBoolean()) {
            int claimed = b.remaining() + (rnd.nextInt(5) - 2) * (rnd.nextBoolean() ? 1 : 8);
            b.putInt(pos, claimed);
            b.putInt(pos + 4, rnd.nextInt(60));
            b.putShort(pos + 36, (short) (rnd.nextBoolean() ? 0 : rnd.nextInt(4)));
        }
        if (b.remaining() >= 8 && rnd.nextInt(4) == 0) {   // INIT-like: major 7, minor around the compat edges
            b.putInt(pos, 7);
            b.putInt(pos + 4, new int[] {4, 5, 6, 22, 23, 35, 36, 38}[rnd.nextInt(8)]);
        }
        return b;
    }
}
