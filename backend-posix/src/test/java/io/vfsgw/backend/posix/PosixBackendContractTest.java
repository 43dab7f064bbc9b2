package io.vfsgw.backend.posix;

import io.vfsgw.spi.BackendContractTest;
import io.vfsgw.spi.StorageBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;

/**
 * The shared SPI contract, run against the posix backend over a directory on disk. The directory
 * is made under {@code target/} (ext4 here), never under a tmpfs: Debian 6.1's tmpfs has no
 * {@code user.*} xattrs, and the contract's xattr tests would test the tmpfs, not us.
 */
class PosixBackendContractTest extends BackendContractTest {
    private Path source;

    @Override
    protected StorageBackend newBackend() throws IOException {
        Path base = Files.createDirectories(Path.of("target", "contract-sources"));
        source = Files.createTempDirectory(base.toAbsolutePath(), "src");
        return PosixBackend.open(PosixOptions.of(source));
    }

    @AfterEach
    void removeSource() throws Exception {
        if (fs != null) { // close first: the superclass's @AfterEach runs after this one
            fs.close();
            fs = null;
        }
        if (source == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(source)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
