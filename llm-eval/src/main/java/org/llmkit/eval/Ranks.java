package org.llmkit.eval;

import java.util.Arrays;
import java.util.Comparator;

/** Ranks 1..n with ties given their average rank (scipy's {@code rankdata(method="average")}). */
final class Ranks {
    private Ranks() { }

    static double[] average(double[] values) {
        Integer[] order = new Integer[values.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> values[i]));
        double[] ranks = new double[values.length];
        int start = 0;
        while (start < order.length) {
            int end = start;
            while (end + 1 < order.length && values[order[end + 1]] == values[order[start]]) {
                end++;
            }
            double rank = (start + end) / 2.0 + 1;   // positions start..end hold ranks start+1..end+1
            for (int k = start; k <= end; k++) {
                ranks[order[k]] = rank;
            }
            start = end + 1;
        }
        return ranks;
    }
}
