package org.llmkit.serve;

import java.time.Duration;

/**
 * Decides when each accepted request runs. The server only talks to this interface: it uses
 * {@link ContinuousScheduler} (continuous batching); {@link BoundedScheduler} runs independent generations on
 * worker threads instead.
 */
public interface Scheduler extends AutoCloseable {

    /**
     * Accepts a request for running now or later.
     *
     * @param request what to generate
     * @param listener receives pieces and the outcome, on a scheduler thread
     * @return a handle to cancel the request
     * @throws SchedulerFullException when the waiting queue is full (HTTP 429)
     * @throws IllegalStateException when the scheduler is shutting down
     */
    Ticket submit(GenerationRequest request, GenerationListener listener);

    /** @return requests accepted but not started yet */
    int queueDepth();

    /** @return generations running now */
    int active();

    /**
     * Stops accepting requests and waits for running and queued ones to finish; whatever is still running after
     * {@code grace} is cancelled (its listener gets a {@link java.util.concurrent.CancellationException}).
     *
     * @param grace how long to wait before cancelling
     * @return true when everything finished within {@code grace}
     */
    boolean drain(Duration grace);

    /** Cancels everything at once and releases the worker threads. */
    @Override
    void close();

    /** A handle on one accepted request. */
    interface Ticket {
        /**
         * Cancels the request: a queued one never starts; a running one stops at its next text piece (its
         * listener gets a {@link java.util.concurrent.CancellationException}). Idempotent.
         */
        void cancel();
    }
}
