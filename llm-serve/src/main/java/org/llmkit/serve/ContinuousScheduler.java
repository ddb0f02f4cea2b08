package org.llmkit.serve;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.llmkit.api.ContinuousBatch;
import org.llmkit.api.Generation;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.generate.BatchDecoder;
import org.llmkit.api.generate.GenerationResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one decode thread runs a {@link ContinuousBatch}, admitting waiting requests (first come,
 * first served) between decode steps whenever a row is free and the KV-token cap allows, and retiring each
 * sequence as soon as it ends. Every step is one forward pass over all running sequences, each with its own
 * sampling settings, stop strings and KV-cache row.
 *
 * <p>Limits: at most {@code maxSequences} sequences decode together; their prompt + {@code max_tokens} sum to at
 * most {@code maxKvTokens}; at most {@code maxQueued} requests wait beyond the rows that are free now, and
 * more are refused with {@link SchedulerFullException} (HTTP 429).
 *
 * <p>Listeners are called on the decode thread and must not block (the server's listeners only enqueue events).
 * Cancellation: a queued request is dropped at once; a running one leaves the batch before the next step.
 */
public final class ContinuousScheduler implements Scheduler {
    private static final Logger LOG = LoggerFactory.getLogger(ContinuousScheduler.class);

    private final LanguageModel model;
    private final ContinuousBatch batch;
    private final int maxSequences;
    private final int maxQueued;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Task> waiting = new ArrayDeque<>();
    private final Thread decoder;
    private volatile int running;
    private boolean accepting = true;
    private boolean stopping;

    /**
     * Creates the scheduler and starts its decode thread (a daemon named {@code llmkit-decode}).
     *
     * @param model the model
     * @param maxSequences sequences decoded together at most; &gt; 0
     * @param maxKvTokens cap on prompt + max_tokens summed over running sequences; &gt; 0
     * @param maxQueued requests waiting beyond the free rows; &gt;= 0
     */
    public ContinuousScheduler(LanguageModel model, int maxSequences, long maxKvTokens, int maxQueued) {
        this.model = Objects.requireNonNull(model, "model");
        if (maxQueued < 0) {
            throw new IllegalArgumentException("maxQueued must be >= 0 but is " + maxQueued);
        }
        this.batch = model.continuousBatch(maxSequences, maxKvTokens);
        this.maxSequences = maxSequences;
        this.maxQueued = maxQueued;
        this.decoder = new Thread(this::loop, "llmkit-decode");
        decoder.setDaemon(true);
        decoder.start();
    }

    /**
     * @param request a request
     * @return whether it can ever run here (prompt + max_tokens within the KV-token cap and the context)
     */
    public boolean fits(GenerationRequest request) {
        return batch.fits(generation(request, () -> false));
    }

    @Override
    public Ticket submit(GenerationRequest request, GenerationListener listener) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        Task task = new Task(request, listener);
        if (!fits(request)) {
            throw new IllegalArgumentException("the prompt (" + request.promptLength() + " tokens) + max_tokens ("
                    + request.maxNewTokens() + ") exceed the server's KV-cache budget of " + batch.maxKvTokens()
                    + " tokens per batch");
        }
        lock.lock();
        try {
            if (!accepting) {
                throw new IllegalStateException("the scheduler is shutting down and accepts no new requests");
            }
            int freeRows = Math.max(0, maxSequences - running);
            if (waiting.size() >= maxQueued + freeRows) {
                throw new SchedulerFullException("server busy: " + running + " sequences decoding (max "
                        + maxSequences + ") and " + waiting.size() + " waiting (max " + maxQueued + "); retry later");
            }
            waiting.add(task);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return task;
    }

    @Override
    public int queueDepth() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int active() {
        return running;
    }

    @Override
    public boolean drain(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        lock.lock();
        try {
            accepting = false;
            changed.signalAll();
            while (running > 0 || !waiting.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                changed.awaitNanos(left);
            }
            if (running == 0 && waiting.isEmpty()) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        close();
        return false;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            accepting = false;
            stopping = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            decoder.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // the decode thread: admit, step, repeat; sleeps while there is nothing to do
    private void loop() {
        try {
            while (true) {
                List<Task> admit = new ArrayList<>();
                List<Task> dropped = new ArrayList<>();
                lock.lock();
                try {
                    while (!stopping && waiting.isEmpty() && batch.running() == 0) {
                        running = 0;
                        changed.signalAll();
                        changed.await();
                    }
                    if (stopping) {
                        dropped.addAll(waiting);
                        waiting.clear();
                        break;
                    }
                    takeAdmissible(admit, dropped);
                } finally {
                    lock.unlock();
                }
                dropped.forEach(t -> t.fail(new CancellationException("cancelled while queued")));
                for (Task t : admit) {
                    t.start();
                }
                if (batch.running() > 0) {
                    batch.step();
                }
                publishRunning();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.error("the decode loop failed; cancelling everything", e);
        } finally {
            List<Task> left;
            lock.lock();
            try {
                accepting = false;
                left = new ArrayList<>(waiting);
                waiting.clear();
            } finally {
                lock.unlock();
            }
            left.forEach(t -> t.fail(new CancellationException("the server is shutting down")));
            batch.close();
            publishRunning();
        }
    }

    // moves waiting tasks (in order) into the batch while they fit; cancelled ones are dropped
    private void takeAdmissible(List<Task> admit, List<Task> dropped) {
        long reserved = batch.reservedTokens();
        int rows = batch.running();
        running = rows;
        while (!waiting.isEmpty()) {
            Task head = waiting.peek();
            if (head.cancelled.get()) {
                dropped.add(waiting.poll());
                continue;
            }
            long need = head.request.promptLength() + (long) head.request.maxNewTokens();
            if (rows >= maxSequences || reserved + need > batch.maxKvTokens()) {
                return;
            }
            admit.add(waiting.poll());
            rows++;
            reserved += need;
        }
        running = rows;   // admitted ones count as running from now on (drain() must not see a gap)
    }

    private void publishRunning() {
        lock.lock();
        try {
            running = batch.running();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private Generation generation(GenerationRequest r, java.util.function.BooleanSupplier cancelled) {
        return r.toGeneration(model).cancelWhen(cancelled);
    }

    /** One accepted request: queued, then a sequence in the batch. */
    private final class Task implements Ticket, BatchDecoder.Listener {
        private final GenerationRequest request;
        private final GenerationListener listener;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean finished = new AtomicBoolean();

        Task(GenerationRequest request, GenerationListener listener) {
            this.request = request;
            this.listener = listener;
        }

        void start() {
            if (cancelled.get()) {
                fail(new CancellationException("cancelled before it started"));
                return;
            }
            try {
                batch.admit(generation(request, cancelled::get), this);
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        @Override
        public void cancel() {
            if (!cancelled.compareAndSet(false, true)) {
                return;
            }
            boolean removed;
            lock.lock();
            try {
                removed = waiting.remove(this);
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            if (removed) {
                fail(new CancellationException("cancelled while queued"));
            }
        }

        @Override
        public void onPiece(String piece) {
            if (!finished.get()) {
                listener.onPiece(piece);
            }
        }

        @Override
        public void onComplete(GenerationResult result) {
            if (finished.compareAndSet(false, true)) {
                listener.onComplete(result);
            }
        }

        @Override
        public void onFailure(Throwable error) {
            fail(error);
        }

        void fail(Throwable error) {
            if (finished.compareAndSet(false, true)) {
                listener.onFailure(error);
            }
        }
    }
}
