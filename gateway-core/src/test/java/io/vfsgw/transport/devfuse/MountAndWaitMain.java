package io.vfsgw.transport.devfuse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.List;

/**
 * Test helper run in a separate JVM by {@link UnmountWatchdogIT} and {@link NonRootMountIT}: mounts
 * the given directory with the test handler, prints "mounted", and serves until it is killed.
 * {@code --no-allow-other} mounts for this user only; {@code --self-check} then stats the mount
 * from inside this process and prints "self-check dir=<bool> mtime=<seconds>".
 */
public final class MountAndWaitMain {
    private MountAndWaitMain() {
    }

    public static void main(String[] args) throws Exception {
        List<String> flags = List.of(args).subList(1, args.length);
        Path mp = Path.of(args[0]);
        MountOptions options = MountOptions.defaults().withWorkerThreads(2)
                .withAllowOther(!flags.contains("--no-allow-other"));
        DevFuseMount m = DevFuseMount.mount(mp, options, new TestFuseHandler());
        System.out.println("mounted");
        if (flags.contains("--self-check")) {
            PosixFileAttributes a = Files.readAttributes(mp, PosixFileAttributes.class);
            System.out.println("self-check dir=" + a.isDirectory() + " mtime=" + a.lastModifiedTime().toMillis() / 1000);
        }
        System.out.flush();
        m.awaitUnmount();
        m.close();
    }
}
