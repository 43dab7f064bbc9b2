package io.vfsgw.transport.vhostuser;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * Measures one virtio-fs server's request latency without a guest: drives its vhost-user socket
 * with the test front end, one request at a time (INIT, then GETATTR of the root and LOOKUP of a
 * missing name, alternating), and prints percentiles and the server-independent round trip cost.
 * Usage: RequestLatencyProbe SOCKET [COUNT]
 */
public final class RequestLatencyProbe {
    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, 64 << 20)) {
            fe.negotiate();
            if (fe.setMemTable() != 0) {
                throw new IllegalStateException("SET_MEM_TABLE refused");
            }
            fe.setUpQueue(0, 128);
            TestVhostUserFrontend.Queue q = fe.setUpQueue(1, 128);
            long in = fe.alloc(4096, 8);
            long out = fe.alloc(4096, 8);
            int o = fe.off(in);
            // INIT 7.38: fuse_in_header (40) + fuse_init_in (64)
            fe.ram.putInt(o, 104).putInt(o + 4, 26).putLong(o + 8, 1).putLong(o + 16, 0);
            fe.ram.putInt(o + 40, 7).putInt(o + 44, 38).putInt(o + 48, 1 << 17).putInt(o + 52, 0);
            roundTrip(q, in, 104, out);
            long[] nanos = new long[count];
            byte[] name = "no-such-file\0".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < count + 2000; i++) {
                int len;
                if (i % 2 == 0) { // GETATTR of the root
                    len = 56;
                    fe.ram.putInt(o, len).putInt(o + 4, 3).putLong(o + 8, 10 + i).putLong(o + 16, 1);
                    fe.ram.putLong(o + 40, 0).putLong(o + 48, 0);
                } else { // LOOKUP of a missing name
                    len = 40 + name.length;
                    fe.ram.putInt(o, len).putInt(o + 4, 1).putLong(o + 8, 10 + i).putLong(o + 16, 1);
                    fe.ram.put(o + 40, name);
                }
                long t0 = System.nanoTime();
                roundTrip(q, in, len, out);
                if (i >= 2000) { // the first 2000 warm both sides up
                    nanos[i - 2000] = System.nanoTime() - t0;
                }
            }
            Arrays.sort(nanos);
            System.out.printf("%s: %d requests, median %.1f us, p90 %.1f us, p99 %.1f us, mean %.1f us%n", socket, count,
                    nanos[count / 2] / 1e3, nanos[count * 9 / 10] / 1e3, nanos[count * 99 / 100] / 1e3,
                    Arrays.stream(nanos).average().orElse(0) / 1e3);
        }
    }

    private static void roundTrip(TestVhostUserFrontend.Queue q, long in, int len, long out) throws Exception {
        q.submitChain(new long[] {in, out}, new int[] {len, 4096}, new boolean[] {false, true});
        q.kick();
        if (q.awaitUsed(Duration.ofSeconds(10)) == null) {
            throw new IllegalStateException("no reply within 10 s");
        }
    }
}
