package io.vfsgw.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** FileType from st_mode and from a directory entry's DT_* value. */
class FileTypeTest {

    @Test
    void everyTypeComesBackFromItsModeAndItsDirentType() {
        for (FileType t : FileType.values()) {
            assertEquals(t, FileType.ofMode(t.modeBits() | 0644));
            assertEquals(t, FileType.ofDirentType(t.direntType()));
        }
        assertEquals(8, FileType.REGULAR.direntType());
        assertEquals(4, FileType.DIRECTORY.direntType());
    }

    @Test
    void unknownTypesAreNull() {
        assertNull(FileType.ofDirentType(0), "DT_UNKNOWN: the caller must stat");
        assertNull(FileType.ofDirentType(14), "DT_WHT");
        assertNull(FileType.ofMode(0644));
    }
}
