package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.spi.Attr;
import io.vfsgw.spi.CreateResult;
import io.vfsgw.spi.Entry;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FileType;
import io.vfsgw.spi.OpenFlags;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.SetAttr;
import io.vfsgw.spi.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Interoperability with the real s3fs-fuse (Debian package s3fs), mounted over /dev/fuse on the
 * same S3Proxy bucket: what s3fs writes we read with the right attributes, and the reverse.
 */
class S3fsInteropIT {
    private static final long ROOT = StorageBackend.ROOT_ID;

    @TempDir
    Path tmp;

    @Test
    void s3fsAndVfsgwReadEachOthersFiles() throws Exception {
        Path s3fs = Path.of("/usr/bin/s3fs");
        if (!Files.isExecutable(s3fs) || !Files.exists(Path.of("/dev/fuse"))) {
            System.out.println("SKIPPED S3fsInteropIT: needs /usr/bin/s3fs (apt-get install s3fs) and /dev/fuse");
            Assumptions.abort("s3fs or /dev/fuse missing");
        }
        S3ProxyFixture server = S3ProxyFixture.shared();
        String prefix = "t-s3fs";
        try (S3AsyncClient client = server.client(List.of())) {
            S3Backend ours = new S3Backend(server.options(tmp.resolve("cache")).prefix(prefix).build(), client);
            RequestContext alice = new RequestContext(1234, 2345, 1);
            // vfsgw writes first
            Entry dir = ours.mkdir(alice, ROOT, FileName.literal("fromvfsgw"), 0700, 0);
            CreateResult cr = ours.create(alice, dir.nodeId(), FileName.literal("file"), 0640, OpenFlags.O_WRONLY, 0);
            ours.write(alice, cr.entry().nodeId(), cr.open().fh(), 0,
                    new Buffers.Source(ByteBuffer.wrap("from vfsgw\n".getBytes(StandardCharsets.UTF_8))), false);
            ours.release(alice, cr.entry().nodeId(), cr.open().fh(), 0, 0);
            ours.setattr(alice, cr.entry().nodeId(), SetAttr.times(null, false, 1_500_000_000_000_000_000L, false));
            ours.symlink(alice, dir.nodeId(), FileName.literal("link"), "file".getBytes(StandardCharsets.UTF_8));
            ours.setxattr(alice, cr.entry().nodeId(), "user.origin", "vfsgw, with bytes \0\1".getBytes(StandardCharsets.UTF_8), 0);
            ours.close();

            Path mnt = Files.createDirectories(tmp.resolve("mnt"));
            Path passwd = tmp.resolve("passwd");
            Files.writeString(passwd, S3ProxyFixture.ACCESS + ":" + S3ProxyFixture.SECRET + "\n");
            Files.setPosixFilePermissions(passwd, PosixFilePermissions.fromString("rw-------"));
            Process p = new ProcessBuilder(s3fs.toString(), S3ProxyFixture.BUCKET + ":/" + prefix, mnt.toString(), "-f",
                    "-o", "url=" + server.endpoint(), "-o", "use_path_request_style", "-o", "passwd_file=" + passwd,
                    "-o", "endpoint=us-east-1", "-o", "stat_cache_expire=1", "-o", "dbglevel=warn", "-o", "use_xattr")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("s3fs.log").toFile()).start();
            try {
                waitForMount(mnt, p);
                Path d = mnt.resolve("fromvfsgw");
                assertEquals(1234, Files.getAttribute(d, "unix:uid"));
                assertEquals(040700, Files.getAttribute(d, "unix:mode"));
                Path f = d.resolve("file");
                assertEquals("from vfsgw\n", Files.readString(f));
                assertEquals(0100640, Files.getAttribute(f, "unix:mode"));
                assertEquals(1234, Files.getAttribute(f, "unix:uid"));
                assertEquals(2345, Files.getAttribute(f, "unix:gid"));
                assertEquals(1_500_000_000L, Files.getLastModifiedTime(f).toMillis() / 1000);
                assertEquals("file", Files.readSymbolicLink(d.resolve("link")).toString());
                assertEquals("vfsgw, with bytes \0\1", xattr(f, "origin"), "s3fs reads our xattr");

                // s3fs writes, vfsgw reads
                Path sd = Files.createDirectory(mnt.resolve("froms3fs"));
                Path sf = Files.writeString(sd.resolve("file"), "from s3fs\n");
                Files.setPosixFilePermissions(sf, PosixFilePermissions.fromString("rw-r-----"));
                Files.setAttribute(sf, "unix:uid", 777);
                Files.setAttribute(sf, "unix:gid", 888);
                Files.setLastModifiedTime(sf, java.nio.file.attribute.FileTime.fromMillis(1_400_000_000_000L));
                Files.createSymbolicLink(sd.resolve("link"), Path.of("file"));
                Files.getFileAttributeView(sf, UserDefinedFileAttributeView.class)
                        .write("tag", ByteBuffer.wrap("set by s3fs".getBytes(StandardCharsets.UTF_8)));
                run("mkfifo", sd.resolve("fifo").toString());
                run("sync");
            } finally {
                run("fusermount3", "-u", mnt.toString());
                p.waitFor(20, TimeUnit.SECONDS);
                p.destroy();
            }
            S3Backend fresh = new S3Backend(server.options(tmp.resolve("cache2")).prefix(prefix)
                    .listingLookups(false).build(), client);
            RequestContext ctx = new RequestContext(0, 0, 1);
            Entry sd = fresh.lookup(ctx, ROOT, FileName.literal("froms3fs"));
            assertEquals(FileType.DIRECTORY, sd.attr().type());
            Attr a = fresh.lookup(ctx, sd.nodeId(), FileName.literal("file")).attr();
            assertEquals(0100640, a.mode());
            assertEquals(777, a.uid());
            assertEquals(888, a.gid());
            assertEquals(1_400_000_000L, a.mtimeNs() / 1_000_000_000L);
            assertEquals(10, a.size());
            long sfNode = fresh.lookup(ctx, sd.nodeId(), FileName.literal("file")).nodeId();
            assertEquals(List.of("user.tag"), fresh.listxattr(ctx, sfNode));
            assertEquals("set by s3fs", new String(fresh.getxattr(ctx, sfNode, "user.tag"), StandardCharsets.UTF_8));
            Entry link = fresh.lookup(ctx, sd.nodeId(), FileName.literal("link"));
            assertEquals(FileType.SYMLINK, link.attr().type());
            assertEquals("file", new String(fresh.readlink(ctx, link.nodeId()), StandardCharsets.UTF_8));
            assertEquals(FileType.FIFO, fresh.lookup(ctx, sd.nodeId(), FileName.literal("fifo")).attr().type());
            fresh.close();
        }
    }

    private static String xattr(Path f, String name) throws Exception {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
        ByteBuffer b = ByteBuffer.allocate(v.size(name));
        v.read(name, b);
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    private static void waitForMount(Path mnt, Process p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.readString(Path.of("/proc/self/mounts")).contains(" " + mnt + " ")) {
            assertTrue(p.isAlive(), "s3fs exited: see s3fs.log");
            assertTrue(System.nanoTime() < deadline, "s3fs did not mount within 20 s");
            Thread.onSpinWait();
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), String.join(" ", cmd) + " hung");
        assertEquals(0, p.exitValue(), String.join(" ", cmd));
    }
}
