package io.vfsgw.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vfsgw.backend.s3.S3ProxyFixture;
import io.vfsgw.guest.GuestScripts;
import io.vfsgw.guest.ServeInThread;
import io.vfsgw.testvm.GuestReport;
import io.vfsgw.testvm.GuestVm;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * A QEMU guest mounts the S3 backend ({@code vfsgw serve --backend s3} in this JVM, S3Proxy in this
 * JVM) with {@code mount -t virtiofs}, writes files and reads them back with checksums; the test
 * then checks the objects themselves with the SDK.
 */
class S3GuestIT {
    @TempDir
    Path tmp;

    @Test
    void guestWritesAndReadsABucket() throws Exception {
        S3ProxyFixture server = S3ProxyFixture.shared();
        System.setProperty("aws.accessKeyId", S3ProxyFixture.ACCESS);
        System.setProperty("aws.secretAccessKey", S3ProxyFixture.SECRET);
        Path socket = tmp.resolve("vfsgw.sock");
        ServeInThread serve = ServeInThread.start("vfsgw-s3-serve", List.of(socket), "--socket-path",
                socket.toString(), "--exit-on-disconnect", "--backend", "s3", "--bucket", S3ProxyFixture.BUCKET,
                "--prefix", "guest", "--endpoint", server.endpoint().toString(), "--path-style", "--cache-dir",
                tmp.resolve("cache").toString());

        GuestReport r = GuestVm.builder().name("s3-guest").socket(socket).timeout(Duration.ofSeconds(240))
                .qemuArgs(GuestScripts.fsopsQemuArgs())
                .script(GuestScripts.LOAD_FSOPS + "\n" + """
                        check gen sh -c 'head -c 24000000 /dev/urandom > /tmp/src && sha256sum /tmp/src | cut -d" " -f1'
                        check write sh -c 'mkdir /mnt/g && cp /tmp/src /mnt/g/big.bin && echo hello > /mnt/g/small.txt'
                        check readback sh -c 'echo 3 > /proc/sys/vm/drop_caches; sha256sum /mnt/g/big.bin | cut -d" " -f1'
                        check rename sh -c 'mv /mnt/g/small.txt /mnt/g/moved.txt && ls /mnt/g | tr "\\n" " "'
                        expect moved 'hello' cat /mnt/g/moved.txt
                        check fsx $F fsx /mnt/g/fsx.dat 2000 13
                        check setxattr $F setxattr /mnt/g/moved.txt user.color blue
                        expect getxattr blue $F getxattr /mnt/g/moved.txt user.color
                        check locks $F locks /mnt/g/lockfile
                        """)
                .build().run();
        r.assertOk();
        r.detail("umount:/mnt");   // the harness unmounts at the end: every close reached the gateway
        String sum = r.detail("gen").strip();
        assertEquals(sum, r.detail("readback").strip(), "the guest read back what it wrote");
        assertEquals("big.bin moved.txt", r.detail("rename").strip());
        assertEquals(0, serve.exitCode(Duration.ofSeconds(60)), "vfsgw serve exits 0 when the VM goes away");

        try (S3AsyncClient sdk = server.client(List.of())) {
            assertEquals(sum, sha256(sdk, "guest/g/big.bin"), "the object in the bucket");
            GuestScripts.assertFsxResult(r.detail("fsx"), sdk.getObject(
                    b -> b.bucket(S3ProxyFixture.BUCKET).key("guest/g/fsx.dat"), AsyncResponseTransformer.toBytes())
                    .join().asByteArray());
            assertEquals("hello\n", sdk.getObject(b -> b.bucket(S3ProxyFixture.BUCKET).key("guest/g/moved.txt"),
                    AsyncResponseTransformer.toBytes()).join().asUtf8String());
            assertEquals("%7B%22user.color%22%3A%22Ymx1ZQ%3D%3D%22%7D", sdk.headObject(b -> b.bucket(S3ProxyFixture.BUCKET)
                    .key("guest/g/moved.txt")).join().metadata().get("xattr"), "the guest's xattr, as s3fs stores it");
            assertTrue(sdk.listObjectsV2(b -> b.bucket(S3ProxyFixture.BUCKET).prefix("guest/g/small")).join()
                    .contents().isEmpty(), "the rename removed the old key");
        }
    }

    private static String sha256(S3AsyncClient sdk, String key) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = sdk.getObject(b -> b.bucket(S3ProxyFixture.BUCKET).key(key),
                AsyncResponseTransformer.toBlockingInputStream()).join()) {
            byte[] buf = new byte[1 << 16];   // test-side checksum only
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
