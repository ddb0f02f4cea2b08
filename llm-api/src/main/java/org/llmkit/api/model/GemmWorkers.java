package org.llmkit.api.model;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs many small independent OpenBLAS calls side by side, one single-threaded call per core, instead of one after
 * another, each split over OpenBLAS's threads. A split small GEMM pays for waking and joining OpenBLAS's workers
 * (which sleep at once under {@link WorkerThreads#TRAINING_SETTINGS}): on 2 cores, 12 layers of causal attention's
 * block GEMMs ({@code 192 x <=256 x 64}, {@link TapedAttention}) took 63 ms on OpenBLAS's 2 threads, 42 ms on one,
 * 22-31 ms as two single-threaded streams.
 *
 * <p>The same holds for the rank-r products of LoRA branches ({@code [1024, 768] x [768, 24]} and the like), which
 * stream activation-sized arrays through a few columns: OpenBLAS ran them slower split over 2 threads than on one,
 * and {@link #split} runs each as contiguous parts side by side. Measured with a {@code [1024, 768]} input, 24
 * stacked ranks and a {@code [1024, 1280]} output: the six forward and backward products took 3.3-3.9 ms split by
 * OpenBLAS, 2.6 ms on one thread, 1.9 ms as two parts; a 100M Llama's LoRA step (all seven projections, 1024
 * positions) spent ~165 ms in its branches instead of ~245.
 *
 * <p>While tasks run, every OpenBLAS call in the process is single-threaded (the setting is global); calls from
 * other threads stay correct. Callers are serialized.
 */
final class GemmWorkers {
    private static final int THREADS = OpenBlas.threads();
    private static ExecutorService helpers;

    private GemmWorkers() { }

    /**
     * Runs {@code task(0) ... task(tasks - 1)}, spread over the calling thread and helpers (as many threads in
     * all as OpenBLAS would use), OpenBLAS single-threaded meanwhile.
     *
     * @param tasks how many
     * @param task one task: OpenBLAS calls and Java work on memory no other task writes; no libtorch calls
     *     (helpers do not share the caller's autograd mode)
     */
    static synchronized void forEach(int tasks, IntConsumer task) {
        int threads = Math.min(THREADS, tasks);
        if (threads <= 1) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                task.accept(i);
            }
        };
        OpenBlas.setThreads(1);
        Future<?>[] started = new Future<?>[threads - 1];
        try {
            for (int h = 0; h < started.length; h++) {
                started[h] = helpers().submit(drain);
            }
            drain.run();
        } finally {
            try {
                for (Future<?> f : started) {
                    if (f != null) {
                        join(f);
                    }
                }
            } finally {
                OpenBlas.setThreads(0);
            }
        }
    }

    /** One contiguous part of a range. */
    @FunctionalInterface
    interface Part {
        /**
         * @param from the part's first index
         * @param to one past its last index
         */
        void run(int from, int to);
    }

    /**
     * Splits {@code [0, n)} into as many contiguous parts of near-equal size as {@link #forEach} has threads and
     * runs them side by side (each part's OpenBLAS calls single-threaded).
     *
     * @param n the range's size
     * @param part one part's work, with the same rules as {@link #forEach}'s tasks
     */
    static void split(int n, Part part) {
        int parts = Math.max(1, Math.min(THREADS, n));
        forEach(parts, p -> part.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
    }

    private static void join(Future<?> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;   // the helper still writes the caller's arrays: wait for it
                }
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static ExecutorService helpers() {
        if (helpers == null) {
            helpers = Executors.newFixedThreadPool(THREADS - 1, r -> {
                Thread t = new Thread(r, "llmkit-gemm");
                t.setDaemon(true);
                return t;
            });
        }
        return helpers;
    }
}
