package org.llmkit.train;

/**
 * Dynamic loss scaling as {@code torch.cuda.amp.GradScaler} does it: the loss is multiplied by
 * {@link #scale()} before backward so small FP16 gradients do not flush to zero; the gradients are divided
 * by it again before clipping and the optimizer. When an unscaled gradient holds an inf or NaN the step
 * is skipped and the scale multiplied by the backoff factor; after {@code growthInterval} good steps in a
 * row it is multiplied by the growth factor.
 */
final class LossScaler {
    /** GradScaler's {@code init_scale}. */
    static final double INITIAL_SCALE = 65536.0;
    /** GradScaler's {@code growth_factor}. */
    static final double GROWTH_FACTOR = 2.0;
    /** GradScaler's {@code backoff_factor}. */
    static final double BACKOFF_FACTOR = 0.5;
    /** GradScaler's {@code growth_interval}. */
    static final long GROWTH_INTERVAL = 2000;

    private final long growthInterval;
    private double scale;
    private long goodSteps;

    /**
     * @param scale the current scale, &gt; 0
     * @param goodSteps finite steps since the last change of scale (GradScaler's growth tracker)
     * @param growthInterval good steps in a row before the scale grows, &gt;= 1
     */
    LossScaler(double scale, long goodSteps, long growthInterval) {
        this.scale = scale;
        this.goodSteps = goodSteps;
        this.growthInterval = growthInterval;
    }

    /** @return the factor the loss is multiplied by before backward */
    double scale() {
        return scale;
    }

    /** @return finite steps since the scale last changed */
    long goodSteps() {
        return goodSteps;
    }

    /**
     * Records the outcome of a step and adjusts the scale.
     *
     * @param foundInf whether an unscaled gradient held an inf or NaN (the step was skipped)
     */
    void update(boolean foundInf) {
        if (foundInf) {
            scale *= BACKOFF_FACTOR;
            goodSteps = 0;
            return;
        }
        goodSteps++;
        if (goodSteps == growthInterval) {
            scale *= GROWTH_FACTOR;
            goodSteps = 0;
        }
    }
}
