package io.vfsgw.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FileNameTest {
    @Test
    void copiesInAndOutSoNoCallerCanChangeAName() throws Exception {
        byte[] raw = {'a', 'b'};
        FileName n = FileName.of(raw);
        raw[0] = 'x';
        assertArrayEquals(new byte[] {'a', 'b'}, n.bytes(), "the name kept its own copy");
        n.bytes()[1] = 'y';
        assertArrayEquals(new byte[] {'a', 'b', 0}, n.nulTerminated(), "bytes() handed out a copy");
        assertEquals(2, n.length());
    }

    @Test
    void refusesSlashNulEmptyAndOverlong() {
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> FileName.of(new byte[] {'a', '/'})).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> FileName.of(new byte[] {'a', 0})).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> FileName.of(new byte[0])).errno());
        assertEquals(Errno.ENAMETOOLONG, assertThrows(FsException.class,
                () -> FileName.of(new byte[FileName.MAX_LENGTH + 1])).errno());
    }

    @Test
    void tellsWellFormedUtf8FromOtherBytes() throws Exception {
        assertTrue(FileName.of("plain").isUtf8());
        assertTrue(FileName.of("\u00e9t\u00e9 \ud83d\ude00").isUtf8());
        assertFalse(FileName.of(new byte[] {(byte) 0xff, 'n'}).isUtf8(), "0xff is never UTF-8");
        assertFalse(FileName.of(new byte[] {'a', (byte) 0xc3}).isUtf8(), "a sequence cut short");
        assertFalse(FileName.of(new byte[] {(byte) 0xc0, (byte) 0xaf}).isUtf8(), "an overlong '/'");
        assertFalse(FileName.of(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}).isUtf8(), "a lone surrogate");
    }
}
