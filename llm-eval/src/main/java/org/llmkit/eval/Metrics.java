package org.llmkit.eval;

import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.ToDoubleBiFunction;

/**
 * Evaluation metrics with exact, documented definitions. Arguments are always gold first, then
 * predictions; arrays must be non-empty and of equal length.
 *
 * <p>Classification follows scikit-learn: a ratio whose denominator is zero counts as 0, macro
 * averages run over the union of labels seen in gold and predictions, and Matthews correlation is
 * the multi-class (Gorodkin) form, which equals the binary phi coefficient for two classes.
 * BLEU follows sacreBLEU's defaults; ROUGE follows Google's {@code rouge-score} without stemming.
 */
public final class Metrics {
    private Metrics() { }

    /**
     * Share of predictions equal to the gold label.
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the accuracy in [0, 1]
     */
    public static double accuracy(int[] gold, int[] pred) {
        checkPair(gold, pred);
        int correct = 0;
        for (int i = 0; i < gold.length; i++) {
            correct += gold[i] == pred[i] ? 1 : 0;
        }
        return (double) correct / gold.length;
    }

    /**
     * Binary precision for the positive class 1: TP / (TP + FP).
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the precision, 0 when nothing was predicted positive
     */
    public static double precision(int[] gold, int[] pred) {
        checkPair(gold, pred);
        return ClassCounts.of(gold, pred, 1).precision();
    }

    /**
     * Binary recall for the positive class 1: TP / (TP + FN).
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the recall, 0 when no gold label is positive
     */
    public static double recall(int[] gold, int[] pred) {
        checkPair(gold, pred);
        return ClassCounts.of(gold, pred, 1).recall();
    }

    /**
     * Binary F1 for the positive class 1: 2TP / (2TP + FP + FN).
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the F1 score, 0 when there is no positive in gold or predictions
     */
    public static double f1(int[] gold, int[] pred) {
        checkPair(gold, pred);
        return ClassCounts.of(gold, pred, 1).f1();
    }

    /**
     * Unweighted mean of the per-label precision over every label in gold or predictions.
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the macro precision
     */
    public static double precisionMacro(int[] gold, int[] pred) {
        return macro(gold, pred, ClassCounts::precision);
    }

    /**
     * Unweighted mean of the per-label recall over every label in gold or predictions.
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the macro recall
     */
    public static double recallMacro(int[] gold, int[] pred) {
        return macro(gold, pred, ClassCounts::recall);
    }

    /**
     * Unweighted mean of the per-label F1 over every label in gold or predictions.
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the macro F1
     */
    public static double f1Macro(int[] gold, int[] pred) {
        return macro(gold, pred, ClassCounts::f1);
    }

    /**
     * Micro-averaged F1 over all labels: counts pooled before dividing. For single-label
     * classification it equals micro precision, micro recall and accuracy.
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the micro F1
     */
    public static double f1Micro(int[] gold, int[] pred) {
        checkPair(gold, pred);
        long tp = 0;
        long fp = 0;
        long fn = 0;
        for (int label : labels(gold, pred)) {
            ClassCounts c = ClassCounts.of(gold, pred, label);
            tp += c.truePositives();
            fp += c.falsePositives();
            fn += c.falseNegatives();
        }
        return ClassCounts.ratio(2 * tp, 2 * tp + fp + fn);
    }

    /**
     * Matthews correlation coefficient, multi-class form:
     * {@code (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²))} with {@code c} correct predictions,
     * {@code s} samples, {@code t_k} gold and {@code p_k} predicted counts of label {@code k}.
     *
     * @param gold gold labels
     * @param pred predicted labels
     * @return the coefficient in [-1, 1], 0 when either side has a single label
     */
    public static double matthewsCorrelation(int[] gold, int[] pred) {
        checkPair(gold, pred);
        double s = gold.length;
        double c = 0;
        double pt = 0;
        double pp = 0;
        double tt = 0;
        for (int label : labels(gold, pred)) {
            ClassCounts k = ClassCounts.of(gold, pred, label);
            double t = k.truePositives() + k.falseNegatives();
            double p = k.truePositives() + k.falsePositives();
            c += k.truePositives();
            pt += p * t;
            pp += p * p;
            tt += t * t;
        }
        double denominator = Math.sqrt((s * s - pp) * (s * s - tt));
        return denominator == 0 ? 0 : (c * s - pt) / denominator;
    }

    /**
     * Pearson correlation coefficient.
     *
     * @param x first sample
     * @param y second sample, same length, at least 2 values
     * @return the coefficient in [-1, 1]
     * @throws IllegalArgumentException when a sample is constant (the coefficient is undefined)
     */
    public static double pearson(double[] x, double[] y) {
        checkSamples(x, y);
        double mx = mean(x);
        double my = mean(y);
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        if (sxx == 0 || syy == 0) {
            throw new IllegalArgumentException("correlation is undefined for a constant sample (variance of "
                    + (sxx == 0 ? "x" : "y") + " is 0)");
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    /**
     * Spearman rank correlation: Pearson correlation of the ranks, tied values sharing their
     * average rank.
     *
     * @param x first sample
     * @param y second sample, same length, at least 2 values
     * @return the coefficient in [-1, 1]
     */
    public static double spearman(double[] x, double[] y) {
        checkSamples(x, y);
        return pearson(Ranks.average(x), Ranks.average(y));
    }

    /**
     * Share of predictions exactly equal (same characters) to their reference.
     *
     * @param references gold strings
     * @param predictions predicted strings, same count
     * @return the exact-match rate in [0, 1]
     */
    public static double exactMatch(List<String> references, List<String> predictions) {
        checkTexts(references, predictions);
        int equal = 0;
        for (int i = 0; i < references.size(); i++) {
            equal += references.get(i).equals(predictions.get(i)) ? 1 : 0;
        }
        return (double) equal / references.size();
    }

    /**
     * Corpus BLEU with one reference per prediction, sacreBLEU's defaults.
     *
     * @param references one reference per prediction
     * @param predictions the system outputs (sacreBLEU's "hypotheses")
     * @return the score on sacreBLEU's 0-100 scale
     * @see #bleuMultiReference(List, List)
     */
    public static double bleu(List<String> references, List<String> predictions) {
        checkTexts(references, predictions);
        return Bleu.corpus(references.stream().map(List::of).toList(), predictions);
    }

    /**
     * Corpus BLEU with sacreBLEU's defaults: 13a tokenization, n-grams up to 4, counts clipped by
     * the largest count in any reference, closest reference length for the brevity penalty, no
     * smoothing (any n-gram order without a match gives 0).
     *
     * @param references for each prediction, its references (at least one, none null)
     * @param predictions the system outputs
     * @return the score on sacreBLEU's 0-100 scale
     */
    public static double bleuMultiReference(List<List<String>> references, List<String> predictions) {
        Objects.requireNonNull(references, "references");
        Objects.requireNonNull(predictions, "predictions");
        if (references.isEmpty() || references.size() != predictions.size()) {
            throw new IllegalArgumentException("references (" + references.size() + ") and predictions ("
                    + predictions.size() + ") must be non-empty and of equal size");
        }
        for (int i = 0; i < references.size(); i++) {
            List<String> refs = references.get(i);
            if (refs == null || refs.isEmpty() || refs.stream().anyMatch(Objects::isNull)) {
                throw new IllegalArgumentException("references[" + i + "] must hold at least one non-null reference");
            }
            Objects.requireNonNull(predictions.get(i), "predictions[" + i + "]");
        }
        return Bleu.corpus(references, predictions);
    }

    /**
     * Mean ROUGE-1 F-measure (unigram overlap) over the pairs.
     *
     * @param references gold texts
     * @param predictions predicted texts, same count
     * @return the mean F-measure in [0, 1]
     */
    public static double rouge1(List<String> references, List<String> predictions) {
        checkTexts(references, predictions);
        return meanOver(references, predictions, (r, p) -> Rouge.n(r, p, 1));
    }

    /**
     * Mean ROUGE-2 F-measure (bigram overlap) over the pairs.
     *
     * @param references gold texts
     * @param predictions predicted texts, same count
     * @return the mean F-measure in [0, 1]
     */
    public static double rouge2(List<String> references, List<String> predictions) {
        checkTexts(references, predictions);
        return meanOver(references, predictions, (r, p) -> Rouge.n(r, p, 2));
    }

    /**
     * Mean ROUGE-L F-measure (longest common subsequence of tokens) over the pairs.
     *
     * @param references gold texts
     * @param predictions predicted texts, same count
     * @return the mean F-measure in [0, 1]
     */
    public static double rougeL(List<String> references, List<String> predictions) {
        checkTexts(references, predictions);
        return meanOver(references, predictions, Rouge::l);
    }

    /**
     * ROUGE-L F-measure of one pair.
     *
     * @param reference the gold text
     * @param prediction the predicted text
     * @return the F-measure in [0, 1]
     */
    public static double rougeL(String reference, String prediction) {
        return Rouge.l(Objects.requireNonNull(reference, "reference"), Objects.requireNonNull(prediction, "prediction"));
    }

    private static double meanOver(List<String> references, List<String> predictions,
            ToDoubleBiFunction<String, String> metric) {
        double sum = 0;
        for (int i = 0; i < references.size(); i++) {
            sum += metric.applyAsDouble(references.get(i), predictions.get(i));
        }
        return sum / references.size();
    }

    private static double macro(int[] gold, int[] pred, java.util.function.ToDoubleFunction<ClassCounts> metric) {
        checkPair(gold, pred);
        TreeSet<Integer> labels = labels(gold, pred);
        double sum = 0;
        for (int label : labels) {
            sum += metric.applyAsDouble(ClassCounts.of(gold, pred, label));
        }
        return sum / labels.size();
    }

    private static TreeSet<Integer> labels(int[] gold, int[] pred) {
        TreeSet<Integer> labels = new TreeSet<>();
        for (int i = 0; i < gold.length; i++) {
            labels.add(gold[i]);
            labels.add(pred[i]);
        }
        return labels;
    }

    private static double mean(double[] v) {
        double sum = 0;
        for (double d : v) {
            sum += d;
        }
        return sum / v.length;
    }

    static void checkPair(int[] gold, int[] pred) {
        Objects.requireNonNull(gold, "gold");
        Objects.requireNonNull(pred, "pred");
        if (gold.length == 0 || gold.length != pred.length) {
            throw new IllegalArgumentException("gold (" + gold.length + ") and pred (" + pred.length
                    + ") must be non-empty and of equal length");
        }
    }

    private static void checkSamples(double[] x, double[] y) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        if (x.length < 2 || x.length != y.length) {
            throw new IllegalArgumentException("x (" + x.length + ") and y (" + y.length
                    + ") must have equal length of at least 2");
        }
    }

    private static void checkTexts(List<String> references, List<String> predictions) {
        Objects.requireNonNull(references, "references");
        Objects.requireNonNull(predictions, "predictions");
        if (references.isEmpty() || references.size() != predictions.size()) {
            throw new IllegalArgumentException("references (" + references.size() + ") and predictions ("
                    + predictions.size() + ") must be non-empty and of equal size");
        }
        for (int i = 0; i < references.size(); i++) {
            Objects.requireNonNull(references.get(i), "references[" + i + "]");
            Objects.requireNonNull(predictions.get(i), "predictions[" + i + "]");
        }
    }
}
