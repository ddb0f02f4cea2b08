package org.llmkit.serve;

import org.llmkit.api.generate.GenerationResult;

/**
 * Receives the progress of one scheduled generation. Calls come from the scheduler's worker thread, in order:
 * any number of {@link #onPiece}, then exactly one of {@link #onComplete} or {@link #onFailure}.
 */
public interface GenerationListener {

    /**
     * A piece of generated text became final (never splits a character, never contains a stop string).
     *
     * @param piece the new text, non-empty
     */
    void onPiece(String piece);

    /**
     * Generation ended normally.
     *
     * @param result tokens, text, finish reason and timings
     */
    void onComplete(GenerationResult result);

    /**
     * Generation failed or was cancelled ({@link java.util.concurrent.CancellationException}).
     *
     * @param error the cause
     */
    void onFailure(Throwable error);
}
