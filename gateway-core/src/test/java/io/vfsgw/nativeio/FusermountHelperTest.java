package io.vfsgw.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FusermountHelperTest {
    @TempDir
    Path tmp;

    @Test
    void userAllowOtherOnlyFromAnUncommentedLine() throws Exception {
        Path conf = tmp.resolve("fuse.conf");
        Files.writeString(conf, "# mount_max = 1000\n#user_allow_other\n");
        assertFalse(FusermountHelper.userAllowOther(conf), "Debian's stock file has it commented out");
        Files.writeString(conf, "mount_max = 1000\n  user_allow_other   # let users share their mounts\n");
        assertTrue(FusermountHelper.userAllowOther(conf));
        assertFalse(FusermountHelper.userAllowOther(tmp.resolve("missing")), "no file: fusermount3 refuses too");
    }

    @Test
    void waitStatusReadsAsExitCodeOrSignal() {
        assertEquals("exit status 1", FusermountHelper.describeWaitStatus(1 << 8));
        assertEquals("exit status 0", FusermountHelper.describeWaitStatus(0));
        assertEquals("killed by signal 9", FusermountHelper.describeWaitStatus(9));
    }
}
