package org.llmkit.eval;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleBiFunction;
import java.util.function.ToDoubleFunction;

/**
 * Percentile bootstrap confidence intervals for any metric, reproducible from a seed.
 *
 * <pre>{@code
 * ConfidenceInterval ci = Bootstrap.of(gold, pred, Metrics::f1);                 // 1000 resamples, 95 %, seed 0
 * ConfidenceInterval ci = Bootstrap.interval(n, idx -> myMetric(idx), 2000, 0.9, 42);
 * }</pre>
 */
public final class Bootstrap {
    /** Resamples used by the short forms. */
    public static final int DEFAULT_RESAMPLES = 1000;
    /** Confidence level used by the short forms. */
    public static final double DEFAULT_LEVEL = 0.95;

    private Bootstrap() { }

    /**
     * Interval for a metric of paired labels, with 1000 resamples, level 0.95 and seed 0.
     *
     * @param gold gold labels
     * @param pred predicted labels, same length
     * @param metric the metric, for example {@code Metrics::f1}
     * @return the interval
     */
    public static ConfidenceInterval of(int[] gold, int[] pred, ToDoubleBiFunction<int[], int[]> metric) {
        return of(gold, pred, metric, DEFAULT_RESAMPLES, DEFAULT_LEVEL, 0);
    }

    /**
     * Interval for a metric of paired labels: each resample draws {@code n} pairs with replacement.
     *
     * @param gold gold labels
     * @param pred predicted labels, same length
     * @param metric the metric, for example {@code Metrics::f1}
     * @param resamples number of resamples, at least 1
     * @param level confidence level, in (0, 1)
     * @param seed the random seed; the same seed gives the same interval
     * @return the interval
     */
    public static ConfidenceInterval of(int[] gold, int[] pred, ToDoubleBiFunction<int[], int[]> metric,
            int resamples, double level, long seed) {
        Metrics.checkPair(gold, pred);
        return interval(gold.length, idx -> {
            int[] g = new int[idx.length];
            int[] p = new int[idx.length];
            for (int i = 0; i < idx.length; i++) {
                g[i] = gold[idx[i]];
                p[i] = pred[idx[i]];
            }
            return metric.applyAsDouble(g, p);
        }, resamples, level, seed);
    }

    /**
     * Interval for any metric of a sample of size {@code n}. The metric receives the indices of one
     * sample: {@code 0..n-1} for the estimate, then {@code n} indices drawn with replacement per resample.
     *
     * @param n the sample size, at least 1
     * @param metric computes the metric on the items at the given indices
     * @param resamples number of resamples, at least 1
     * @param level confidence level, in (0, 1)
     * @param seed the random seed
     * @return the interval; bounds are numpy-style linearly interpolated percentiles
     */
    public static ConfidenceInterval interval(int n, ToDoubleFunction<int[]> metric, int resamples, double level,
            long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, was " + n);
        }
        if (resamples < 1) {
            throw new IllegalArgumentException("resamples must be at least 1, was " + resamples);
        }
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException("level must be in (0, 1), was " + level);
        }
        int[] identity = new int[n];
        Arrays.setAll(identity, i -> i);
        double estimate = metric.applyAsDouble(identity);
        SplittableRandom random = new SplittableRandom(seed);
        double[] values = new double[resamples];
        int[] idx = new int[n];
        for (int r = 0; r < resamples; r++) {
            for (int i = 0; i < n; i++) {
                idx[i] = random.nextInt(n);
            }
            values[r] = metric.applyAsDouble(idx.clone());
        }
        Arrays.sort(values);
        return new ConfidenceInterval(estimate, quantile(values, (1 - level) / 2), quantile(values, (1 + level) / 2),
                level, resamples);
    }

    /** numpy's default ("linear") quantile of sorted values. */
    static double quantile(double[] sorted, double q) {
        double position = q * (sorted.length - 1);
        int below = (int) Math.floor(position);
        int above = Math.min(below + 1, sorted.length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
