package org.llmkit.serve;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.GenerationResult;

/**
 * Runs up to {@code maxConcurrent} generations at once, each a streaming {@link Generation} on its own worker
 * thread with its own KV cache, and keeps at most {@code maxQueued} more waiting (first come, first served).
 *
 * <p>This is <b>not</b> continuous batching: concurrent requests do not share a forward pass; the server uses
 * {@link ContinuousScheduler}. This one remains for applications that want independent generations side by side
 * (the thread-safe {@link LanguageModel} allows it), e.g. to compare against batching.
 *
 * <p>Cancellation: a cancelled queued request never starts. A running one stops before its next decode step
 * ({@link Generation#cancelWhen}), which ends llm-api's decode loop and closes its per-generation arrays.
 */
public final class BoundedScheduler implements Scheduler {
    private final LanguageModel model;
    private final ThreadPoolExecutor workers;
    private final Set<Task> live = ConcurrentHashMap.newKeySet();
    private final AtomicInteger active = new AtomicInteger();
    private final int maxConcurrent;
    private final int maxQueued;

    /**
     * Creates the scheduler and its worker threads (daemon threads named {@code llmkit-generate-N}).
     *
     * @param model the model; thread-safe for concurrent generations
     * @param maxConcurrent generations running at once; &gt; 0
     * @param maxQueued requests waiting at most; &gt;= 0
     */
    public BoundedScheduler(LanguageModel model, int maxConcurrent, int maxQueued) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxConcurrent <= 0) {
            throw new IllegalArgumentException("maxConcurrent must be > 0 but is " + maxConcurrent);
        }
        if (maxQueued < 0) {
            throw new IllegalArgumentException("maxQueued must be >= 0 but is " + maxQueued);
        }
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        // a SynchronousQueue would be needed for a zero-length queue; ArrayBlockingQueue needs capacity >= 1
        this.workers = new ThreadPoolExecutor(maxConcurrent, maxConcurrent, 0, TimeUnit.MILLISECONDS,
                maxQueued == 0 ? new java.util.concurrent.SynchronousQueue<>() : new ArrayBlockingQueue<>(maxQueued),
                daemonThreads(), new ThreadPoolExecutor.AbortPolicy());
    }

    @Override
    public Ticket submit(GenerationRequest request, GenerationListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        if (workers.isShutdown()) {
            throw new IllegalStateException("the scheduler is shutting down and accepts no new requests");
        }
        Task task = new Task(request, listener);
        live.add(task);
        try {
            workers.execute(task);
        } catch (RejectedExecutionException e) {
            live.remove(task);
            if (workers.isShutdown()) {
                throw new IllegalStateException("the scheduler is shutting down and accepts no new requests", e);
            }
            throw new SchedulerFullException("server busy: " + active.get() + " generations running (max "
                    + maxConcurrent + ") and " + queueDepth() + " waiting (max " + maxQueued + "); retry later");
        }
        return task;
    }

    @Override
    public int queueDepth() {
        return workers.getQueue().size();
    }

    @Override
    public int active() {
        return active.get();
    }

    @Override
    public boolean drain(Duration grace) {
        workers.shutdown();
        try {
            if (workers.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
        return false;
    }

    @Override
    public void close() {
        workers.shutdown();
        live.forEach(Task::cancel);
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private GenerationResult run(GenerationRequest r, AtomicBoolean cancelled, GenerationListener listener) {
        return r.toGeneration(model).cancelWhen(cancelled::get).stream(listener::onPiece);
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "llmkit-generate-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** One accepted request: runnable on a worker, cancellable from any thread. */
    private final class Task implements Runnable, Ticket {
        private final GenerationRequest request;
        private final GenerationListener listener;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();

        Task(GenerationRequest request, GenerationListener listener) {
            this.request = request;
            this.listener = listener;
        }

        @Override
        public void run() {
            if (cancelled.get()) {
                finish(null, new CancellationException("cancelled before it started"));
                return;
            }
            active.incrementAndGet();
            try {
                finish(BoundedScheduler.this.run(request, cancelled, listener), null);
            } catch (RuntimeException | Error e) {
                finish(null, e);
            } finally {
                active.decrementAndGet();
            }
        }

        @Override
        public void cancel() {
            if (cancelled.compareAndSet(false, true) && workers.remove(this)) {
                finish(null, new CancellationException("cancelled while queued"));
            }
        }

        private void finish(GenerationResult result, Throwable error) {
            if (!finished.compareAndSet(false, true)) {
                return;
            }
            live.remove(this);
            if (error == null) {
                listener.onComplete(result);
            } else {
                listener.onFailure(error);
            }
        }
    }
}
