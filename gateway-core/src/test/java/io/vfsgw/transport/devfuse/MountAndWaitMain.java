package io.vfsgw.transport.devfuse;

import java.nio.file.Path;

/**
 * Test helper run in a separate JVM by {@link UnmountWatchdogIT}: mounts the given directory with
 * the test handler, prints "mounted", and serves until it is killed.
 */
public final class MountAndWaitMain {
    private MountAndWaitMain() {
    }

    public static void main(String[] args) throws Exception {
        DevFuseMount m = DevFuseMount.mount(Path.of(args[0]), MountOptions.defaults().withWorkerThreads(2),
                new TestFuseHandler()); //X
        System.out.println("mounted");
        System.out.flush();
        m.awaitUnmount();
        m.close();
    }
}
