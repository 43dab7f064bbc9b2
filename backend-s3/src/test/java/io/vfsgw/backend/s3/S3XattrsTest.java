package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class S3XattrsTest {
    /** The exact value s3fs 1.90 (Debian 12) stored for setfattr -n user.color -v "red green" and user.tag=blue. */
    private static final String FROM_S3FS = "%7B%22user.color%22%3A%22cmVkIGdyZWVu%22%2C%22user.tag%22%3A%22Ymx1ZQ%3D%3D%22%7D";

    @Test
    void readsAndWritesS3fsFormatByteForByte() {
        TreeMap<String, byte[]> xs = S3Xattrs.decode(FROM_S3FS);
        assertEquals(2, xs.size());
        assertArrayEquals("red green".getBytes(StandardCharsets.UTF_8), xs.get("user.color"));
        assertArrayEquals("blue".getBytes(StandardCharsets.UTF_8), xs.get("user.tag"));
        assertEquals(FROM_S3FS, S3Xattrs.encode(xs));
    }

    @Test
    void binaryValuesRoundTripAndNoneDropsTheKey() {
        TreeMap<String, byte[]> xs = new TreeMap<>(Map.of("security.selinux", new byte[] {0, (byte) 0xff, '+', '/'}));
        assertArrayEquals(xs.get("security.selinux"), S3Xattrs.decode(S3Xattrs.encode(xs)).get("security.selinux"));
        assertNull(S3Xattrs.encode(new TreeMap<>()));
    }

    @Test
    void malformedValuesReadAsNoneOrAreSkipped() {
        assertTrue(S3Xattrs.decode("%ZZ").isEmpty());
        assertTrue(S3Xattrs.decode("not json").isEmpty());
        assertTrue(S3Xattrs.decode(null).isEmpty());
        TreeMap<String, byte[]> partly = S3Xattrs.decode("%7B%22user.a%22%3A%22%21%21%22%2C%22user.b%22%3A%22Yg%3D%3D%22%7D");
        assertEquals(1, partly.size(), "a value that is not base64 is skipped, the rest kept");
        assertArrayEquals("b".getBytes(StandardCharsets.UTF_8), partly.get("user.b"));
        assertTrue(!S3Xattrs.representable("user.a,b") && !S3Xattrs.representable("user.\"q\"")
                && S3Xattrs.representable("user.plain"));
    }
}
