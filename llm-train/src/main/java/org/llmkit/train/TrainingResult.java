package org.llmkit.train;

import java.util.List;

/**
 * The outcome of {@link FineTuner#train}. After a resume, the per-step lists hold the whole history
 * from step 1, read back from the checkpoint; throughput covers only the resumed part.
 *
 * @param steps optimizer steps completed in total
 * @param losses the training loss of every step
 * @param gradientNorms the global gradient norm (before clipping) of every step
 * @param learningRates the learning rate every step used
 * @param evaluations the periodic validation results, in order
 * @param tokensPerSecond training tokens per second of this call
 * @param trainableParameters the number of trained scalars
 * @param skippedSteps the 1-based steps whose optimizer update was skipped because a gradient held an inf
 *     or NaN (mixed precision), in order; empty when none was
 */
public record TrainingResult(long steps, List<Double> losses, List<Double> gradientNorms, List<Double> learningRates,
        List<Evaluation> evaluations, double tokensPerSecond, long trainableParameters, List<Long> skippedSteps) {

    /**
     * Copies the lists.
     *
     * @param steps optimizer steps completed in total
     * @param losses the training loss of every step
     * @param gradientNorms the global gradient norm (before clipping) of every step
     * @param learningRates the learning rate every step used
     * @param evaluations the periodic validation results, in order
     * @param tokensPerSecond training tokens per second of this call
     * @param trainableParameters the number of trained scalars
     * @param skippedSteps the steps whose optimizer update was skipped, in order
     */
    public TrainingResult {
        skippedSteps = List.copyOf(skippedSteps);
        losses = List.copyOf(losses);
        gradientNorms = List.copyOf(gradientNorms);
        learningRates = List.copyOf(learningRates);
        evaluations = List.copyOf(evaluations);
    }

    /** @return the last step's training loss, or NaN when no step ran */
    public double finalLoss() {
        return losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1);
    }
}
