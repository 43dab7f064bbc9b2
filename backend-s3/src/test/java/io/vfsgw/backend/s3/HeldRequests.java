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
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * An S3 client that holds chosen requests back, so a test can put another guest's change inside
 * a request's flight, deterministically: the answer of one LIST (the server has answered it; the
 * caller sees the answer when the test says so), or one PUT (sent only once a DELETE of its key has
 * been answered, or after {@link #PUT_HOLD} when none comes). Every other call goes straight to the
 * real client; what is held waits on a thread of its own, never on the SDK's.
 */
final class HeldRequests {
    private static final long TIMEOUT_SECONDS = 30;
    /** How long a held PUT waits for the DELETE of its key (a fix may make the DELETE wait for the PUT). */
    static final long PUT_HOLD_MILLIS = 2000;

    private final S3AsyncClient real;
    private final AtomicReference<String> heldListPrefix = new AtomicReference<>();
    private final CountDownLatch listAnswered = new CountDownLatch(1);
    private final CountDownLatch listReleased = new CountDownLatch(1);
    private final AtomicReference<String> heldPutKey = new AtomicReference<>();
    private final CountDownLatch putSeen = new CountDownLatch(1);
    private final CountDownLatch deleted = new CountDownLatch(1);
    private volatile String deleteAwaited;

    HeldRequests(S3AsyncClient real) {
        this.real = real;
    }

    /** The next LIST whose prefix is exactly {@code prefix} (one only) is held back once answered. */
    HeldRequests holdListAnswer(String prefix) {
        heldListPrefix.set(prefix);
        return this;
    }

    /** Waits until the held LIST has its answer from the server. */
    void awaitListAnswered() throws InterruptedException {
        await(listAnswered, "no LIST of " + heldListPrefix.get() + " was sent");
    }

    /** Lets the held LIST answer through. */
    void releaseList() {
        listReleased.countDown();
    }

    /** The next PUT of {@code key} (one only) is sent once a DELETE of it has been answered, or after the hold. */
    HeldRequests holdPutUntilDeleted(String key) {
        deleteAwaited = key;
        heldPutKey.set(key);
        return this;
    }

    /** Waits until the held PUT has been asked for. */
    void awaitPutHeld() throws InterruptedException {
        await(putSeen, "no PUT of " + heldPutKey.get() + " was asked for");
    }

    /** The client to give the backend. */
    S3AsyncClient client() {
        InvocationHandler h = this::invoke;
        return (S3AsyncClient) Proxy.newProxyInstance(S3AsyncClient.class.getClassLoader(),
                new Class<?>[] {S3AsyncClient.class}, h);
    }

    private static void await(CountDownLatch latch, String failure) throws InterruptedException {
        if (!latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new AssertionError(failure);
        }
    }

    @SuppressWarnings("unchecked")
    private Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
        if (m.getName().equals("listObjectsV2") && args != null && args.length == 1) {
            ListObjectsV2Request request = args[0] instanceof ListObjectsV2Request r ? r
                    : ListObjectsV2Request.builder().applyMutation((Consumer<ListObjectsV2Request.Builder>) args[0]).build();
            CompletableFuture<ListObjectsV2Response> answer = real.listObjectsV2(request);
            return takes(heldListPrefix, request.prefix())
                    ? answer.thenApplyAsync(r -> {
                        listAnswered.countDown();
                        awaitQuietly(listReleased, TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
                        return r;
                    }, HeldRequests::onOwnThread)
                    : answer;
        }
        if (m.getName().equals("putObject") && args != null && args.length == 2 && args[0] instanceof Consumer<?> c) {
            PutObjectRequest request = PutObjectRequest.builder()
                    .applyMutation((Consumer<PutObjectRequest.Builder>) c).build();
            if (takes(heldPutKey, request.key())) {
                putSeen.countDown();
                return CompletableFuture.runAsync(() -> awaitQuietly(deleted, PUT_HOLD_MILLIS), HeldRequests::onOwnThread)
                        .thenCompose(v -> (CompletableFuture<PutObjectResponse>) invokeReal(m, args));
            }
        }
        if (m.getName().equals("deleteObject") && args != null && args.length == 1 && args[0] instanceof Consumer<?> c) {
            DeleteObjectRequest request = DeleteObjectRequest.builder()
                    .applyMutation((Consumer<DeleteObjectRequest.Builder>) c).build();
            if (request.key().equals(deleteAwaited)) {
                return real.deleteObject(request).whenComplete((r, e) -> deleted.countDown());
            }
        }
        if (m.getName().equals("close")) {
            return null;    // the real client is the test's
        }
        return invokeReal(m, args);
    }

    /** Whether {@code value} is what {@code held} waits for; if so, it waits no more (one request only). */
    private static boolean takes(AtomicReference<String> held, String value) {
        String h = held.get();
        return h != null && h.equals(value) && held.compareAndSet(h, null);
    }

    private Object invokeReal(Method m, Object[] args) {
        try {
            return m.invoke(real, args);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitQuietly(CountDownLatch latch, long millis) {
        try {
            latch.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void onOwnThread(Runnable r) {
        new Thread(r, "held-s3-request").start();
    }
}
