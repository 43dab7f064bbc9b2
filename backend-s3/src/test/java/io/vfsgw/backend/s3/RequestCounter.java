package io.vfsgw.backend.s3;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** Counts HTTP requests (attempts, so retries count too) per S3 operation name. */
public final class RequestCounter implements ExecutionInterceptor {
    private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attrs) {
        String op = attrs.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        counts.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
    }

    public void reset() {
        counts.clear();
    }

    public int get(String op) {
        AtomicInteger n = counts.get(op);
        return n == null ? 0 : n.get();
    }

    public int total() {
        return counts.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    public Map<String, Integer> snapshot() {
        Map<String, Integer> m = new TreeMap<>();
        counts.forEach((k, v) -> m.put(k, v.get()));
        return m;
    }
}
