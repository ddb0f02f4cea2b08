package org.llmkit.serve;

/** Thrown by {@link Scheduler#submit} when no queue slot is free; the server answers HTTP 429. */
public final class SchedulerFullException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message says how many requests run and wait
     */
    public SchedulerFullException(String message) {
        super(message);
    }
}
