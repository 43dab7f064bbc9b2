package io.vfsgw.backend.posix;

import io.vfsgw.spi.ReadOnlyBackend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import io.vfsgw.spi.Errno;
import io.vfsgw.spi.FileName;
import io.vfsgw.spi.FsException;
import io.vfsgw.spi.RequestContext;
import io.vfsgw.spi.StorageBackend;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixModuleTest {
    @TempDir
    Path tmp;

    @Test
    void providesOneBackendForTheSource() throws Exception {
        Injector inj = Guice.createInjector(new PosixModule(PosixOptions.of(tmp)));
        StorageBackend b = inj.getInstance(StorageBackend.class);
        try {
            assertInstanceOf(PosixBackend.class, b);
            assertSame(b, inj.getInstance(StorageBackend.class));
            assertEquals("posix", b.name());
        } finally {
            b.close();
        }
    }

    @Test
    void readonlyIsWrapped() throws Exception {
        StorageBackend b = Guice.createInjector(new PosixModule(PosixOptions.of(tmp).withReadonly(true)))
                .getInstance(StorageBackend.class);
        try {
            assertInstanceOf(ReadOnlyBackend.class, b);
            FsException e = assertThrows(FsException.class,
                    () -> b.mkdir(RequestContext.ROOT, StorageBackend.ROOT_ID, FileName.literal("d"), 0755, 0));
            assertEquals(Errno.EROFS, e.errno());
        } finally {
            b.close();
        }
    }

    @Test
    void missingSourceFailsAtInjectorCreationWithTheOneLine() {
        CreationException e = assertThrows(CreationException.class,
                () -> Guice.createInjector(new PosixModule(PosixOptions.of(tmp.resolve("missing")))));
        assertTrue(e.getMessage().contains("--source " + tmp.resolve("missing") + " does not exist"), e.getMessage());
        IllegalArgumentException cause = assertInstanceOf(IllegalArgumentException.class,
                e.getErrorMessages().iterator().next().getCause());
        assertTrue(cause.getMessage().startsWith("posix backend: --source"));
    }
}
