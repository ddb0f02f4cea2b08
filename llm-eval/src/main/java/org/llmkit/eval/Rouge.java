package org.llmkit.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** ROUGE F-measures as Google's {@code rouge-score} computes them ({@code use_stemmer=False}). */
final class Rouge {
    private Rouge() { }

    /** rouge-score's default tokenizer: lowercase, every run of non [a-z0-9] is a separator. */
    static List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        for (String t : text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")) {
            if (!t.isEmpty()) {
                tokens.add(t);
            }
        }
        return tokens;
    }

    static double n(String reference, String prediction, int n) {
        Map<List<String>, Integer> ref = ngrams(tokenize(reference), n);
        Map<List<String>, Integer> hyp = ngrams(tokenize(prediction), n);
        long overlap = 0;
        for (Map.Entry<List<String>, Integer> e : hyp.entrySet()) {
            overlap += Math.min(e.getValue(), ref.getOrDefault(e.getKey(), 0));
        }
        return fMeasure(overlap, count(hyp), count(ref));
    }

    static double l(String reference, String prediction) {
        List<String> ref = tokenize(reference);
        List<String> hyp = tokenize(prediction);
        int[][] table = new int[ref.size() + 1][hyp.size() + 1];
        for (int i = 1; i <= ref.size(); i++) {
            for (int j = 1; j <= hyp.size(); j++) {
                table[i][j] = ref.get(i - 1).equals(hyp.get(j - 1))
                        ? table[i - 1][j - 1] + 1 : Math.max(table[i - 1][j], table[i][j - 1]);
            }
        }
        return fMeasure(table[ref.size()][hyp.size()], hyp.size(), ref.size());
    }

    private static double fMeasure(long overlap, long predictionCount, long referenceCount) {
        double precision = predictionCount == 0 ? 0 : (double) overlap / predictionCount;
        double recall = referenceCount == 0 ? 0 : (double) overlap / referenceCount;
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    private static long count(Map<List<String>, Integer> grams) {
        long sum = 0;
        for (int c : grams.values()) {
            sum += c;
        }
        return sum;
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
        }
        return counts;
    }
}
