package io.vfsgw.backend.mem;

import io.vfsgw.spi.BackendContractTest;
import io.vfsgw.spi.StorageBackend;

/** The shared SPI contract, run against the in-memory backend (it has every optional feature). */
class MemBackendContractTest extends BackendContractTest {
    @Override
    protected StorageBackend newBackend() {
        return new MemBackend(MemOptions.defaults());
    }
}
