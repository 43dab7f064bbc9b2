package io.vfsgw.backend.s3;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;

/**
 * An S3 client that holds back the answer of one chosen LIST: the server has answered it, but the
 * caller sees the answer only when the test says so, as if it were still in flight. Lets a test put
 * another guest's change between a LIST's answer and its use, deterministically. Every other call
 * goes straight to the real client; the answer waits on a thread of its own, never on the SDK's.
 */
final class ListParker {
    private static final long TIMEOUT_SECONDS = 30;

    private final S3AsyncClient real;
    private final AtomicReference<String> parkedPrefix = new AtomicReference<>();
    private final CountDownLatch answered = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    ListParker(S3AsyncClient real) {
        this.real = real;
    }

    /** The next LIST whose prefix is exactly {@code prefix} (one only) will be held back once answered. */
    ListParker park(String prefix) {
        parkedPrefix.set(prefix);
        return this;
    }

    /** Waits until the parked LIST has its answer from the server. */
    void awaitAnswered() throws InterruptedException {
        if (!answered.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError("no LIST of " + parkedPrefix.get() + " was sent");
        }
    }

    /** Lets the parked answer through. */
    void release() {
        released.countDown();
    }

    /** The client to give the backend. */
    S3AsyncClient client() {
        InvocationHandler h = this::invoke;
        return (S3AsyncClient) Proxy.newProxyInstance(S3AsyncClient.class.getClassLoader(),
                new Class<?>[] {S3AsyncClient.class}, h);
    }

    @SuppressWarnings("unchecked")
    private Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
        if (m.getName().equals("listObjectsV2") && args != null && args.length == 1) {
            ListObjectsV2Request request = args[0] instanceof ListObjectsV2Request r ? r
                    : ListObjectsV2Request.builder().applyMutation((Consumer<ListObjectsV2Request.Builder>) args[0]).build();
            CompletableFuture<ListObjectsV2Response> answer = real.listObjectsV2(request);
            String p = parkedPrefix.get();
            if (p != null && p.equals(request.prefix()) && parkedPrefix.compareAndSet(p, null)) {
                return answer.thenApplyAsync(r -> {
                    answered.countDown();
                    try {
                        if (!released.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the parked LIST was never released");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                    return r;
                }, runnable -> new Thread(runnable, "parked-list").start());
            }
            return answer;
        }
        if (m.getName().equals("close")) {
            return null;    // the real client is the test's
        }
        try {
            return m.invoke(real, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
