package org.llmkit.train;

/**
 * How the learning rate moves over training, after a linear warmup from 0 (as transformers'
 * {@code get_constant_schedule_with_warmup}, {@code get_linear_schedule_with_warmup} and
 * {@code get_cosine_schedule_with_warmup} do).
 */
public enum Schedule {
    /** Warmup, then the peak rate until the end. */
    CONSTANT,
    /** Warmup, then a straight line down to 0 at the last step. */
    LINEAR,
    /** Warmup, then half a cosine from the peak rate down to 0 at the last step. */
    COSINE;

    /**
     * Returns the factor applied to the peak learning rate at an optimizer step.
     *
     * @param step the 0-based optimizer step about to run
     * @param warmupSteps steps of linear warmup ({@code step / warmupSteps}); 0 for none
     * @param totalSteps the number of optimizer steps of the whole run, at least 1
     * @return the factor, in [0, 1]
     */
    public double factor(long step, long warmupSteps, long totalSteps) {
        if (step < warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        switch (this) {
            case LINEAR:
                return Math.max(0.0, 1.0 - progress);
            case COSINE:
                return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * Math.min(1.0, progress))));
            default:
                return 1.0;
        }
    }
}
