package org.llmkit.eval;

/**
 * A metric's value on the full sample with a percentile bootstrap interval.
 *
 * @param estimate the metric on the original sample
 * @param lower the lower bound: the {@code (1 - level) / 2} quantile of the resampled values
 * @param upper the upper bound: the {@code (1 + level) / 2} quantile of the resampled values
 * @param level the confidence level, in (0, 1)
 * @param resamples the number of bootstrap resamples
 */
public record ConfidenceInterval(double estimate, double lower, double upper, double level, int resamples) {

    /**
     * Checks the components.
     *
     * @param estimate the metric on the original sample
     * @param lower the lower bound
     * @param upper the upper bound, at least {@code lower}
     * @param level the confidence level, in (0, 1)
     * @param resamples the number of resamples, at least 1
     */
    public ConfidenceInterval {
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException("level must be in (0, 1), was " + level);
        }
        if (resamples < 1) {
            throw new IllegalArgumentException("resamples must be at least 1, was " + resamples);
        }
        if (lower > upper) {
            throw new IllegalArgumentException("lower (" + lower + ") is above upper (" + upper + ")");
        }
    }
}
