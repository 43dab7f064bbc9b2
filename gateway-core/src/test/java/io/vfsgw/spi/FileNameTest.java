package io.vfsgw.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
