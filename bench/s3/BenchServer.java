import java.net.URI;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/**
 * S3Proxy 4.1.0 as a standalone server for bench/s3/run.sh, configured exactly as the tests'
 * S3ProxyFixture (filesystem-nio2 store, SigV4): java -cp CLASSPATH BenchServer.java DIR PORT ID SECRET.
 */
public class BenchServer {
    public static void main(String[] a) throws Exception {
        S3Proxy p = S3Proxy.builder()
                .blobStore(new FilesystemNio2BlobStore(a[0]))
                .endpoint(URI.create("http://127.0.0.1:" + a[1]))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, a[2], a[3])
                .build();
        p.start();
        System.out.println("S3Proxy started on 127.0.0.1:" + a[1]);
        Thread.currentThread().join();
    }
}
