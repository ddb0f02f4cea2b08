package org.llmkit.eval;

/** One label's confusion counts, treating that label as positive and every other as negative. */
record ClassCounts(long truePositives, long falsePositives, long falseNegatives) {

    static ClassCounts of(int[] gold, int[] pred, int positive) {
        long tp = 0;
        long fp = 0;
        long fn = 0;
        for (int i = 0; i < gold.length; i++) {
            boolean g = gold[i] == positive;
            boolean p = pred[i] == positive;
            tp += g && p ? 1 : 0;
            fp += !g && p ? 1 : 0;
            fn += g && !p ? 1 : 0;
        }
        return new ClassCounts(tp, fp, fn);
    }

    double precision() {
        return ratio(truePositives, truePositives + falsePositives);
    }

    double recall() {
        return ratio(truePositives, truePositives + falseNegatives);
    }

    double f1() {
        return ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives);
    }

    /** scikit-learn's zero_division=0: an empty denominator counts as 0. */
    static double ratio(long numerator, long denominator) {
        return denominator == 0 ? 0 : (double) numerator / denominator;
    }
}
