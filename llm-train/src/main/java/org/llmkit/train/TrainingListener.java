package org.llmkit.train;

/**
 * Receives progress from {@link FineTuner#train}, on the training thread. An exception thrown here
 * stops training and propagates out of {@code train} (checkpoints already written stay valid).
 */
public interface TrainingListener {

    /**
     * Called after each optimizer step (and after its checkpoint, when one is due).
     *
     * @param metrics what the step did
     */
    default void onStep(StepMetrics metrics) {
    }

    /**
     * Called after each periodic evaluation.
     *
     * @param evaluation the validation loss and perplexity
     */
    default void onEvaluation(Evaluation evaluation) {
    }
}
