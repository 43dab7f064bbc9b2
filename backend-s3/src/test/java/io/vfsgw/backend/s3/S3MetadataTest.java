package io.vfsgw.backend.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vfsgw.spi.FileType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** s3fs-fuse metadata encoding: what s3fs writes parses, what we write is what s3fs writes. */
class S3MetadataTest {

    @Test
    void parsesWhatS3fsWrites() {
        S3Metadata m = S3Metadata.parse(Map.of("mode", "33188", "uid", "1000", "gid", "100",
                "mtime", "1700000000", "ctime", "1700000001", "atime", "1700000002"));
        assertEquals(0100644, m.mode());
        assertEquals(FileType.REGULAR, m.type());
        assertEquals(1000, m.uid());
        assertEquals(100, m.gid());
        assertEquals(1_700_000_000_000_000_000L, m.mtimeNs());
        assertEquals(1_700_000_001_000_000_000L, m.ctimeNs());
        assertEquals(1_700_000_002_000_000_000L, m.atimeNs());
    }

    @Test
    void fractionalTimesAndBadValues() {
        assertEquals(1_700_000_000_500_000_000L, S3Metadata.parseTime("1700000000.5"));
        assertEquals(1_700_000_000_000_000_123L, S3Metadata.parseTime("1700000000.000000123"));
        assertNull(S3Metadata.parseTime("yesterday"));
        assertNull(S3Metadata.parse(Map.of("mode", "rw-r--r--")).mode());
        assertNull(S3Metadata.parse(Map.of("mode", "420")).type(), "permission bits only: type from the key");
    }

    @Test
    void encodesLikeS3fs() {
        Map<String, String> m = S3Metadata.encode(Map.of(), 0120777, 5, 6, 1_700_000_000_000_000_000L,
                1_700_000_000_250_000_000L, 1_700_000_000_000_000_001L);
        assertEquals("41471", m.get("mode"));
        assertEquals("5", m.get("uid"));
        assertEquals("6", m.get("gid"));
        assertEquals("1700000000", m.get("mtime"));
        assertEquals("1700000000.250000000", m.get("atime"));
        assertEquals("1700000000.000000001", m.get("ctime"));
        assertEquals(S3Metadata.parse(m), new S3Metadata(0120777, 5, 6, 1_700_000_000_000_000_000L,
                1_700_000_000_250_000_000L, 1_700_000_000_000_000_001L, Map.of()));
    }

    @Test
    void otherToolsMetadataRidesAlongAndOursWins() {
        Map<String, String> found = Map.of("mode", "33188", "xattr", "%7B%22user.tag%22%3A%22Ymx1ZQ%3D%3D%22%7D",
                "owner-app", "backup-7");
        S3Metadata parsed = S3Metadata.parse(found);
        assertEquals(Map.of("xattr", "%7B%22user.tag%22%3A%22Ymx1ZQ%3D%3D%22%7D", "owner-app", "backup-7"), parsed.others());
        Map<String, String> rewritten = S3Metadata.encode(Map.of("mode", "0", "owner-app", "backup-7"), 0100600, 1, 2, 0, 0, 0);
        assertEquals("33152", rewritten.get("mode"), "our attributes replace stale copies of themselves");
        assertEquals("backup-7", rewritten.get("owner-app"));
    }
}
