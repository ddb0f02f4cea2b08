package org.llmkit.eval;

import java.util.Arrays;

/** Percentiles by linear interpolation between order statistics (numpy's default, "linear"). */
final class Percentiles {
    private Percentiles() { }

    /**
     * @param values at least one value (not modified)
     * @param q the percentile in [0, 100]
     * @return the interpolated percentile
     */
    static double of(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double rank = q / 100 * (sorted.length - 1);
        int low = (int) Math.floor(rank);
        int high = (int) Math.ceil(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    static double mean(double[] values) {
        return Arrays.stream(values).average().orElseThrow();
    }
}
