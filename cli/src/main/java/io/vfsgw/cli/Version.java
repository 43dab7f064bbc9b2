package io.vfsgw.cli;

import picocli.CommandLine;

/** Reports the version from the jar manifest (or "dev" when run from classes). */
public final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return new String[] {"vfsgw " + (v == null ? "0.1.0-SNAPSHOT" : v),
                "FUSE protocol 7.38, Java " + System.getProperty("java.version")};
    }
}
