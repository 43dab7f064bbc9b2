package io.vfsgw.transport.devfuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** mountinfo parsing: optional fields, octal escapes, and the fusectl connection id. */
class MountTableTest {
    @Test
    void parsesFieldsAroundOptionalTags() {
        List<MountTable.Entry> e = MountTable.parse("""
                36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue
                42 27 0:39 / /tmp/a\\040b\\134c\\011d rw,nosuid,nodev - fuse.vfsgw vfsgw:bucket rw,user_id=0
                garbage line
                """);
        assertEquals(2, e.size());
        assertEquals(new MountTable.Entry(36, 98, 0, "/mnt2", "ext3", "/dev/root"), e.get(0));
        assertEquals(new MountTable.Entry(42, 0, 39, "/tmp/a b\\c\td", "fuse.vfsgw", "vfsgw:bucket"), e.get(1));
        assertEquals(39, e.get(1).connectionId());
        assertEquals((98L << 20), e.get(0).connectionId());
    }

    @Test
    void leavesUnknownBackslashesAlone() {
        assertEquals("a\\9b\\", MountTable.unescape("a\\9b\\"));
        assertEquals("x y", MountTable.unescape("x\\040y"));
    }

    @Test
    void readsTheRealTable() {
        assertTrue(MountTable.topAt("/").isPresent(), "/ is always a mount point");
        assertTrue(MountTable.read().stream().anyMatch(m -> m.fsType().equals("proc")));
    }
}
