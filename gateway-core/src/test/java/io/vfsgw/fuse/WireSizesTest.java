package io.vfsgw.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pins every record's SIZE to the sizeof the kernel header gives (checked by gcc in {@link FuseHeaderGoldenTest}). */
class WireSizesTest {
    @ParameterizedTest(name = "{1} is {0} bytes")
    @CsvSource({
            "16, OutHeader",
            "88, FuseAttr",
            "80, Kstatfs",
            "24, FileLock",
            "128, EntryOut",
            "8, ForgetIn",
            "16, ForgetOne",
            "8, BatchForgetIn",
            "16, GetattrIn",
            "104, AttrOut",
            "16, MknodIn",
            "8, MkdirIn",
            "8, RenameIn",
            "16, Rename2In",
            "8, LinkIn",
            "88, SetattrIn",
            "8, OpenIn",
            "16, CreateIn",
            "16, OpenOut",
            "24, ReleaseIn",
            "24, FlushIn",
            "40, ReadIn",
            "40, WriteIn",
            "8, WriteOut",
            "80, StatfsOut",
            "16, FsyncIn",
            "16, SetxattrIn",
            "8, GetxattrIn",
            "8, GetxattrOut",
            "48, LkIn",
            "24, LkOut",
            "8, AccessIn",
            "8, InterruptIn",
            "16, BmapIn",
            "8, BmapOut",
            "32, IoctlIn",
            "16, IoctlIovec",
            "16, IoctlOut",
            "24, PollIn",
            "8, PollOut",
            "8, NotifyPollWakeupOut",
            "32, FallocateIn",
            "24, NotifyInvalInodeOut",
            "16, NotifyInvalEntryOut",
            "24, NotifyDeleteOut",
            "24, NotifyStoreOut",
            "32, NotifyRetrieveOut",
            "40, NotifyRetrieveIn",
            "24, LseekIn",
            "8, LseekOut",
            "56, CopyFileRangeIn",
            "40, SetupMappingIn",
            "4, RemoveMappingIn",
            "16, RemoveMappingOne",
            "8, SyncfsIn",
            "8, SecctxHeader",
            "8, Secctx",
            "8, ExtHeader",
            "40, InHeader",
            "64, InitIn",
            "64, InitOut",
            "24, Dirent",
            "152, Direntplus",
    })
    void sizeMatchesLinuxHeader(int expected, String record) throws Exception {
        assertEquals(expected, Class.forName("io.vfsgw.fuse." + record).getField("SIZE").getInt(null));
    }
}
