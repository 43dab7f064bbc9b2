package io.vfsgw.cli;

import io.vfsgw.backend.s3.CacheDirLock;
import io.vfsgw.backend.s3.S3Clients;
import io.vfsgw.backend.s3.S3Options;
import io.vfsgw.backend.s3.StagingRecovery;
import io.vfsgw.backend.s3.StagingRecovery.Leftover;
import io.vfsgw.spi.FsException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** {@code vfsgw s3 ...}: maintenance of the S3 backend's local state; today only {@code recover}. */
@Command(name = "s3", mixinStandardHelpOptions = true, description = "S3 backend maintenance.",
        subcommands = {S3Command.Recover.class})
final class S3Command implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: use 'vfsgw s3 recover'");
    }

    /**
     * {@code vfsgw s3 recover}: lists the staging files a crashed gateway left in its cache dir (path,
     * target object, size) and, with --upload, uploads them and removes them.
     */
    @Command(name = "recover", mixinStandardHelpOptions = true,
            description = {"List files a stopped or crashed S3 gateway wrote but never uploaded.",
                    "These are its staging files under --cache-dir; with --upload they are put into the bucket."
                            + " Stop any gateway using the same --cache-dir first. Credentials: the AWS SDK"
                            + " default chain (AWS_ACCESS_KEY_ID...)."})
    static final class Recover implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = {"--cache-dir", "--s3-cache-dir"}, paramLabel = "DIR", required = true,
                description = "The --cache-dir of the gateway that stopped.")
        Path cacheDir;

        @Option(names = {"--bucket", "--s3-bucket"}, paramLabel = "NAME",
                description = "Only files for this bucket (and the bucket for files without a manifest).")
        String bucket;

        @Option(names = {"--endpoint", "--s3-endpoint"}, paramLabel = "URL", converter = EndpointConverter.class, description = "S3-compatible endpoint; default AWS.")
        URI endpoint;

        @Option(names = {"--region", "--s3-region"}, paramLabel = "R", defaultValue = "us-east-1",
                description = "Signing region (default: ${DEFAULT-VALUE}).")
        String region;

        @Option(names = {"--path-style", "--s3-path-style"}, description = "Path-style addressing (most non-AWS servers).")
        boolean pathStyle;

        @Option(names = "--upload", description = "Upload each file to its object (overwriting it), then delete it.")
        boolean upload;

        /** As the gateway wrote: a bucket that demands encryption refuses anything else. */
        @Mixin
        S3WriteOptions writes = new S3WriteOptions();

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (!Files.isDirectory(cacheDir)) {
                throw new SetupException("--cache-dir " + cacheDir + " is not a directory");
            }
            try (CacheDirLock lock = lockCacheDir()) {
                return recover(out, err);
            }
        }

        /** A gateway still running on the directory owns its staging files: recover only after it stops. */
        private CacheDirLock lockCacheDir() throws IOException {
            try {
                return CacheDirLock.acquire(cacheDir);
            } catch (IllegalStateException e) {
                throw new SetupException(e.getMessage());
            }
        }

        private int recover(PrintWriter out, PrintWriter err) throws IOException {
            List<Leftover> all = StagingRecovery.scan(cacheDir).stream()
                    .filter(l -> bucket == null || l.bucket() == null || bucket.equals(l.bucket()))
                    .toList();
            if (all.isEmpty()) {
                out.println("no staging files in " + StagingRecovery.stagingDir(cacheDir));
                out.flush();
                return ExitCodes.OK;
            }
            int failed = 0;
            for (Leftover l : all) {
                out.println(l.describe());
                if (!upload) {
                    continue;
                }
                String b = l.bucket() != null ? l.bucket() : bucket;
                if (b == null || l.key() == null) {
                    err.println("  not uploaded: " + (l.key() == null ? "key unknown" : "no manifest: give --bucket"));
                    failed++;
                    continue;
                }
                S3Options o;
                try {
                    o = writes.applyTo(S3Options.builder(b).endpoint(endpoint).region(region).pathStyle(pathStyle)
                            .cacheDir(cacheDir)).build();
                } catch (IllegalArgumentException e) {
                    throw new SetupException(e.getMessage());
                }
                try (S3AsyncClient s3 = S3Clients.build(o)) {
                    String etag = StagingRecovery.upload(s3, o, l);
                    out.println("  uploaded to s3://" + b + "/" + l.key() + " (ETag " + etag + "), staging file removed");
                } catch (FsException e) {
                    err.println("  upload failed: " + e.getMessage());
                    failed++;
                }
            }
            if (!upload) {
                out.println(all.size() + " file(s); upload them with --upload");
            }
            out.flush();
            err.flush();
            return failed == 0 ? ExitCodes.OK : ExitCodes.RUNTIME_FAILURE;
        }
    }
}
