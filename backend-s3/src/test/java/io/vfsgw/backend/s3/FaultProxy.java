package io.vfsgw.backend.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A tiny HTTP/1.1 proxy in front of S3Proxy that answers chosen requests with a 500 instead of
 * forwarding them (mountpoint-s3's failure-injecting client, done on the wire so the SDK's real
 * retry logic runs). It parses request heads and Content-Length bodies only; responses are piped
 * through untouched. The SDK never pipelines, so a new request head means the previous response
 * is complete and an injected 500 cannot interleave with it.
 */
final class FaultProxy implements AutoCloseable {
    /** The request line ("PUT /bucket/key?partNumber=2&uploadId=... HTTP/1.1"). */
    record RequestLine(String method, String target) {
    }

    private final ServerSocket server;
    private final int upstreamPort;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private volatile Predicate<RequestLine> fail = r -> false;
    private final AtomicInteger budget = new AtomicInteger();
    final AtomicInteger injected = new AtomicInteger();
    /** Added before each request is passed on: a store this many milliseconds away. */
    volatile long latencyMs;
    /** Every request head passed through or refused, in arrival order: request line and headers. */
    final List<String> heads = new CopyOnWriteArrayList<>();
    /** TCP connections accepted from the client so far (a client that pools connections opens few). */
    final AtomicInteger connections = new AtomicInteger();

    FaultProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(this::acceptLoop);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** The next {@code count} requests matching {@code which} get a 500 (Integer.MAX_VALUE: all). */
    void failNext(int count, Predicate<RequestLine> which) {
        budget.set(count);
        fail = which;
    }

    void heal() {
        budget.set(0);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket c = server.accept();
                connections.incrementAndGet();
                pool.execute(() -> serve(c));
            } catch (IOException e) {
                return;   // closed
            }
        }
    }

    private void serve(Socket client) {
        try (client; Socket up = new Socket()) {
            up.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort));
            InputStream cin = new java.io.BufferedInputStream(client.getInputStream());   // readHead reads bytes
            OutputStream cout = client.getOutputStream();
            InputStream uin = up.getInputStream();
            OutputStream uout = up.getOutputStream();
            pool.execute(() -> pipe(uin, cout));
            while (true) {
                byte[] head = readHead(cin);
                if (head == null) {
                    return;
                }
                String text = new String(head, StandardCharsets.ISO_8859_1);
                String[] first = text.substring(0, text.indexOf("\r\n")).split(" ");
                RequestLine line = new RequestLine(first[0], first.length > 1 ? first[1] : "");
                long length = contentLength(text);
                heads.add(text);
                if (fail.test(line) && budget.getAndUpdate(b -> b > 0 && b != Integer.MAX_VALUE ? b - 1 : b) > 0) {
                    injected.incrementAndGet();
                    if (!text.toLowerCase(Locale.ROOT).contains("expect: 100-continue")) {
                        skip(cin, length);   // else the client waits for 100 Continue and sends no body
                    }
                    byte[] body = "<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                            .getBytes(StandardCharsets.UTF_8);
                    cout.write(("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n"
                            + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    cout.write(body);
                    cout.flush();
                    return;
                }
                if (latencyMs > 0) {
                    try {
                        Thread.sleep(latencyMs);   // the simulated distance to the store
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                uout.write(head);
                if (length < 0) {
                    pipe(cin, uout);   // chunked request: no more request boundaries to see here
                    return;
                }
                copy(cin, uout, length);
                uout.flush();
            }
        } catch (IOException e) {
            // a side hung up: the SDK sees a connection error and retries
        }
    }

    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
                    ? state + 1 : (c == '\r' ? 1 : 0);
        }
        return b.toByteArray();
    }

    /** Content-Length, 0 when absent, -1 for chunked. */
    private static long contentLength(String head) {
        long len = 0;
        for (String h : head.split("\r\n")) {
            String l = h.toLowerCase(Locale.ROOT);
            if (l.startsWith("content-length:")) {
                len = Long.parseLong(l.substring(15).trim());
            } else if (l.startsWith("transfer-encoding:") && l.contains("chunked")) {
                return -1;
            }
        }
        return len;
    }

    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buf = new byte[64 << 10];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new IOException("client closed mid-body");
            }
            out.write(buf, 0, r);
            n -= r;
        }
    }

    private static void skip(InputStream in, long n) throws IOException {
        if (n > 0) {
            copy(in, OutputStream.nullOutputStream(), n);
        }
    }

    private static void pipe(InputStream in, OutputStream out) {
        try {
            in.transferTo(out);
        } catch (IOException e) {
            // connection closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        pool.shutdownNow();
    }
}
