package io.vfsgw.transport.vhostuser;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * Measures one virtio-fs server's request latency and cost without a guest: drives its vhost-user
 * socket with the test front end, one request at a time, and prints percentiles per request kind.
 * The default mix alternates GETATTR of the root and LOOKUP of a missing name; {@code meta} runs
 * the requests a guest's create+close+unlink of one file sends (LOOKUP miss, CREATE, FLUSH,
 * RELEASE, UNLINK, FORGET on the high-priority queue) in a directory the server must let root write;
 * {@code write} sends WRITEs of 496 KiB in 124 page-sized descriptors, as a guest's page cache does,
 * cycling over a 64 MiB file; {@code read} writes a 16 MiB file that way, then READs 4 KiB at
 * random offsets into a reply of an out-header descriptor and one page, as a guest's random reads do.
 * {@code metadir} runs {@code meta} in a new subdirectory, as the guest benchmark does.
 * Usage: RequestLatencyProbe SOCKET [COUNT] [meta|metadir|write|read]
 */
public final class RequestLatencyProbe {
    private static final int WARM_UP = 2000;

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
        String mode = args.length > 2 ? args[2] : "";
        try (TestVhostUserFrontend fe = TestVhostUserFrontend.connect(socket, 64 << 20)) {
            fe.negotiate();
            if (fe.setMemTable() != 0) {
                throw new IllegalStateException("SET_MEM_TABLE refused");
            }
            Probe p = new Probe(fe, fe.setUpQueue(0, 128), fe.setUpQueue(1, 256));
            // INIT 7.38: fuse_in_header (40) + fuse_init_in (64)
            p.header(104, 26, 0);
            // flags: FUSE_BIG_WRITES | FUSE_MAX_PAGES, so WRITEs of more than 32 pages are allowed
            fe.ram.putInt(p.o + 40, 7).putInt(p.o + 44, 38).putInt(p.o + 48, 1 << 17).putInt(p.o + 52, (1 << 5) | (1 << 22));
            p.roundTrip(p.requests, 104);
            if (mode.equals("meta")) {
                p.meta(socket, count, 1);
            } else if (mode.equals("metadir")) {
                p.meta(socket, count, p.mkdir("probe-dir-" + System.nanoTime()));
            } else if (mode.equals("write")) {
                p.writes(socket, count);
            } else if (mode.equals("read")) {
                p.reads(socket, count);
            } else {
                p.getattrAndLookup(socket, count);
            }
        }
    }

    private static final class Probe {
        final TestVhostUserFrontend fe;
        final TestVhostUserFrontend.Queue hiprio;
        final TestVhostUserFrontend.Queue requests;
        final long in;
        final long out;
        final int o;
        final int reply;
        long unique = 1;

        Probe(TestVhostUserFrontend fe, TestVhostUserFrontend.Queue hiprio, TestVhostUserFrontend.Queue requests) {
            this.fe = fe;
            this.hiprio = hiprio;
            this.requests = requests;
            this.in = fe.alloc(4096, 8);
            this.out = fe.alloc(4096, 8);
            this.o = fe.off(in);
            this.reply = fe.off(out);
        }

        /** fuse_in_header: len, opcode, unique, nodeid; uid, gid, pid 0 (root). */
        void header(int len, int opcode, long nodeid) {
            fe.ram.putInt(o, len).putInt(o + 4, opcode).putLong(o + 8, unique++).putLong(o + 16, nodeid);
            fe.ram.putInt(o + 24, 0).putInt(o + 28, 0).putInt(o + 32, 0).putInt(o + 36, 0);
        }

        /** Sends the request at {@code in} and waits for its reply; returns the reply's error field. */
        int roundTrip(TestVhostUserFrontend.Queue q, int len) throws Exception {
            send(q, new long[] {in, out}, new int[] {len, 4096}, new boolean[] {false, true});
            return fe.ram.getInt(reply + 4);
        }

        /** Sends a request that gets no reply (FORGET) on {@code q} and waits for the chain back. */
        void oneWay(TestVhostUserFrontend.Queue q, int len) throws Exception {
            send(q, new long[] {in}, new int[] {len}, new boolean[] {false});
        }

        /** Submits one chain, kicks, and waits until the server returns it. */
        static void send(TestVhostUserFrontend.Queue q, long[] gpas, int[] lens, boolean[] writable) throws Exception {
            q.submitChain(gpas, lens, writable);
            q.kick();
            if (q.awaitUsed(Duration.ofSeconds(10)) == null) {
                throw new IllegalStateException("chain not returned within 10 s");
            }
        }

        int name(int at, String s) {
            byte[] b = (s + "\0").getBytes(StandardCharsets.US_ASCII);
            fe.ram.put(at, b);
            return b.length;
        }

        void getattrAndLookup(Path socket, int count) throws Exception {
            long[] nanos = new long[count];
            for (int i = 0; i < count + WARM_UP; i++) {
                long t0 = System.nanoTime();
                if (i % 2 == 0) { // GETATTR of the root: fuse_getattr_in (16)
                    header(56, 3, 1);
                    fe.ram.putLong(o + 40, 0).putLong(o + 48, 0);
                    t0 = System.nanoTime();
                    roundTrip(requests, 56);
                } else { // LOOKUP of a missing name
                    int len = 40 + name(o + 40, "no-such-file");
                    header(len, 1, 1);
                    t0 = System.nanoTime();
                    roundTrip(requests, len);
                }
                if (i >= WARM_UP) {
                    nanos[i - WARM_UP] = System.nanoTime() - t0;
                }
            }
            System.out.println(socket + ": " + count + " requests (GETATTR and LOOKUP miss): " + summary(nanos));
        }

        /** MKDIR in the root: fuse_mkdir_in (8: mode, umask) + name; returns the new directory's node. */
        long mkdir(String dir) throws Exception {
            fe.ram.putInt(o + 40, 040755).putInt(o + 44, 022);
            int len = 48 + name(o + 48, dir);
            header(len, 9, 1);
            int err = roundTrip(requests, len);
            if (err != 0) {
                throw new IllegalStateException("MKDIR failed with errno " + -err);
            }
            return fe.ram.getLong(reply + 16);
        }

        /** The requests of a guest's create+close+unlink of {@code files} files in directory {@code dir}. */
        void meta(Path socket, int files, long dir) throws Exception {
            String[] kinds = {"LOOKUP-miss", "CREATE", "FLUSH", "RELEASE", "UNLINK", "FORGET"};
            long[][] nanos = new long[kinds.length][files];
            long run = System.nanoTime();
            for (int i = 0; i < files + WARM_UP; i++) {
                String file = "probe-" + run + "-" + i;
                long[] t = new long[kinds.length];
                int len = 40 + name(o + 40, file);
                header(len, 1, dir);
                long t0 = System.nanoTime();
                int miss = roundTrip(requests, len);
                // ENOENT, or a negative entry (nodeid 0) the kernel may cache
                if (miss != -2 && !(miss == 0 && fe.ram.getLong(reply + 16) == 0)) {
                    throw new IllegalStateException("LOOKUP of a new name found something (error " + miss + ")");
                }
                t[0] = System.nanoTime() - t0;
                // CREATE: fuse_create_in (16: flags, mode, umask, open_flags) + name
                fe.ram.putInt(o + 40, 0x8000 | 0xc1).putInt(o + 44, 0100644).putInt(o + 48, 022).putInt(o + 52, 0);
                len = 56 + name(o + 56, file);
                header(len, 35, dir);
                t0 = System.nanoTime();
                int err = roundTrip(requests, len);
                t[1] = System.nanoTime() - t0;
                if (err != 0) {
                    throw new IllegalStateException("CREATE failed with errno " + -err);
                }
                long node = fe.ram.getLong(reply + 16);
                long fh = fe.ram.getLong(reply + 16 + 128);
                // FLUSH: fuse_flush_in (24: fh, unused, padding, lock_owner)
                header(64, 25, node);
                fe.ram.putLong(o + 40, fh).putInt(o + 48, 0).putInt(o + 52, 0).putLong(o + 56, 7);
                t0 = System.nanoTime();
                roundTrip(requests, 64);
                t[2] = System.nanoTime() - t0;
                // RELEASE: fuse_release_in (24: fh, flags, release_flags, lock_owner)
                header(64, 18, node);
                fe.ram.putLong(o + 40, fh).putInt(o + 48, 0x8001).putInt(o + 52, 0).putLong(o + 56, 0);
                t0 = System.nanoTime();
                roundTrip(requests, 64);
                t[3] = System.nanoTime() - t0;
                len = 40 + name(o + 40, file);
                header(len, 10, dir);
                t0 = System.nanoTime();
                err = roundTrip(requests, len);
                t[4] = System.nanoTime() - t0;
                if (err != 0) {
                    throw new IllegalStateException("UNLINK failed with errno " + -err);
                }
                // FORGET: fuse_forget_in (8: nlookup), no reply
                header(48, 2, node);
                fe.ram.putLong(o + 40, 1);
                t0 = System.nanoTime();
                oneWay(hiprio, 48);
                t[5] = System.nanoTime() - t0;
                if (i >= WARM_UP) {
                    for (int k = 0; k < kinds.length; k++) {
                        nanos[k][i - WARM_UP] = t[k];
                    }
                }
            }
            System.out.println(socket + ": " + files + " files created, closed and unlinked");
            long total = 0;
            for (int k = 0; k < kinds.length; k++) {
                System.out.printf("  %-12s %s%n", kinds[k], summary(nanos[k]));
                total += Arrays.stream(nanos[k]).sum();
            }
            System.out.printf("  per file     mean %.1f us%n", total / 1e3 / files);
        }

        /** Creates a file and fills it with {@code writes} WRITEs of 124 pages; returns {node, fh}. */
        long[] createAndFill(int writes, long[] nanos) throws Exception {
            int pages = 124;
            String file = "probe-" + System.nanoTime();
            fe.ram.putInt(o + 40, 0x8000 | 0x42).putInt(o + 44, 0100644).putInt(o + 48, 022).putInt(o + 52, 0);
            int len = 56 + name(o + 56, file);
            header(len, 35, 1);
            int err = roundTrip(requests, len);
            if (err != 0) {
                throw new IllegalStateException("CREATE failed with errno " + -err);
            }
            long node = fe.ram.getLong(reply + 16);
            long fh = fe.ram.getLong(reply + 16 + 128);
            long[] gpas = new long[pages + 2];
            int[] lens = new int[pages + 2];
            boolean[] writable = new boolean[pages + 2];
            gpas[0] = in;
            lens[0] = 80;
            for (int k = 1; k <= pages; k++) {
                gpas[k] = fe.alloc(4096, 4096);
                lens[k] = 4096;
            }
            gpas[pages + 1] = out;
            lens[pages + 1] = 4096;
            writable[pages + 1] = true;
            for (int i = 0; i < writes; i++) {
                int size = pages * 4096;
                // fuse_write_in (40): fh, offset, size, write_flags, lock_owner, flags, padding
                header(80 + size, 16, node);
                fe.ram.putLong(o + 40, fh).putLong(o + 48, (long) (i % 128) * size).putInt(o + 56, size)
                        .putInt(o + 60, 0).putLong(o + 64, 0).putInt(o + 72, 0x8001).putInt(o + 76, 0);
                long t0 = System.nanoTime();
                send(requests, gpas, lens, writable);
                if (fe.ram.getInt(reply + 4) != 0 || fe.ram.getInt(reply + 16) != size) {
                    throw new IllegalStateException("WRITE answered error " + fe.ram.getInt(reply + 4) + ", size "
                            + fe.ram.getInt(reply + 16));
                }
                if (i >= WARM_UP && nanos != null) {
                    nanos[i - WARM_UP] = System.nanoTime() - t0;
                }
            }
            return new long[] {node, fh};
        }

        void writes(Path socket, int count) throws Exception {
            long[] nanos = new long[count];
            createAndFill(count + WARM_UP, nanos);
            System.out.println(socket + ": " + count + " WRITEs of 124 x 4 KiB: " + summary(nanos));
        }

        void reads(Path socket, int count) throws Exception {
            int fileSize = 33 * 124 * 4096; // 16.5 MB: 33 WRITEs
            long[] file = createAndFill(33, null);
            long page = fe.alloc(4096, 4096);
            java.util.Random random = new java.util.Random(42);
            long[] nanos = new long[count];
            for (int i = 0; i < count + WARM_UP; i++) {
                long offset = (long) random.nextInt(fileSize / 4096) * 4096;
                // fuse_read_in (40): fh, offset, size, read_flags, lock_owner, flags, padding
                header(80, 15, file[0]);
                fe.ram.putLong(o + 40, file[1]).putLong(o + 48, offset).putInt(o + 56, 4096).putInt(o + 60, 0)
                        .putLong(o + 64, 0).putInt(o + 72, 0x8002).putInt(o + 76, 0);
                long t0 = System.nanoTime();
                send(requests, new long[] {in, out, page}, new int[] {80, 16, 4096}, new boolean[] {false, true, true});
                if (fe.ram.getInt(reply + 4) != 0 || fe.ram.getInt(reply) != 16 + 4096) {
                    throw new IllegalStateException("READ answered error " + fe.ram.getInt(reply + 4) + ", length "
                            + fe.ram.getInt(reply));
                }
                if (i >= WARM_UP) {
                    nanos[i - WARM_UP] = System.nanoTime() - t0;
                }
            }
            System.out.println(socket + ": " + count + " READs of 4 KiB: " + summary(nanos));
        }

        static String summary(long[] nanos) {
            long[] s = nanos.clone();
            Arrays.sort(s);
            int n = s.length;
            return String.format("median %.1f us, p90 %.1f us, p99 %.1f us, mean %.1f us", s[n / 2] / 1e3,
                    s[n * 9 / 10] / 1e3, s[n * 99 / 100] / 1e3, Arrays.stream(s).average().orElse(0) / 1e3);
        }
    }
}
