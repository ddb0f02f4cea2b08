package org.llmkit.train;

/**
 * What one optimizer step did.
 *
 * @param step the 1-based optimizer step just finished
 * @param totalSteps the steps of the whole run
 * @param epoch the 0-based epoch the step's last batch came from
 * @param loss the mean training loss over the step's micro-batches, in nats per token
 * @param gradientNorm the global L2 gradient norm before clipping
 * @param learningRate the learning rate the step used
 * @param tokens the tokens the step consumed
 * @param tokensPerSecond training throughput since this run (or resume) started
 * @param elapsedSeconds seconds since this run (or resume) started
 * @param skipped true when the unscaled gradients held an inf or NaN and the optimizer update was skipped
 *     (mixed precision; the step still consumed its data and counts toward the schedule)
 * @param lossScale the FP16 loss scale this step's backward used; 1 without FP16
 */
public record StepMetrics(long step, long totalSteps, int epoch, double loss, double gradientNorm,
        double learningRate, long tokens, double tokensPerSecond, double elapsedSeconds, boolean skipped,
        double lossScale) {
}
