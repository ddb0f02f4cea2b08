package org.llmkit.serve;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.llmkit.api.generate.GenerationResult;

/**
 * Hands a generation's events from the scheduler's worker thread to the HTTP thread that writes the response,
 * so that a slow or vanished client never blocks a worker.
 */
final class EventQueue implements GenerationListener {
    /** One event: exactly one field is set. */
    record Event(String piece, GenerationResult result, Throwable error) { }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    @Override
    public void onPiece(String piece) {
        events.add(new Event(piece, null, null));
    }

    @Override
    public void onComplete(GenerationResult result) {
        events.add(new Event(null, result, null));
    }

    @Override
    public void onFailure(Throwable error) {
        events.add(new Event(null, null, error));
    }

    /**
     * @param deadlineNanos {@link System#nanoTime()} after which to give up
     * @return the next event, or null at the deadline
     * @throws InterruptedException when the HTTP thread is interrupted
     */
    Event next(long deadlineNanos) throws InterruptedException {
        return events.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
