package org.llmkit.eval;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Corpus BLEU as sacreBLEU computes it by default ({@code BLEU(tokenize="13a", smooth_method="none")}).
 */
final class Bleu {
    private static final int MAX_ORDER = 4;

    // sacrebleu/tokenizers/tokenizer_re.py, applied in this order
    private static final Pattern PUNCTUATION = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    private static final Pattern PERIOD_COMMA_AFTER = Pattern.compile("([^0-9])([\\.,])");
    private static final Pattern PERIOD_COMMA_BEFORE = Pattern.compile("([\\.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Bleu() { }

    static double corpus(List<List<String>> references, List<String> predictions) {
        long[] correct = new long[MAX_ORDER];
        long[] total = new long[MAX_ORDER];
        long predictionLength = 0;
        long referenceLength = 0;
        for (int i = 0; i < predictions.size(); i++) {
            String[] hyp = tokenize13a(predictions.get(i));
            predictionLength += hyp.length;
            referenceLength += closestLength(hyp.length, references.get(i));
            for (int n = 1; n <= MAX_ORDER; n++) {
                Map<String, Integer> maxRef = new HashMap<>();
                for (String ref : references.get(i)) {
                    ngrams(tokenize13a(ref), n).forEach((g, c) -> maxRef.merge(g, c, Math::max));
                }
                for (Map.Entry<String, Integer> e : ngrams(hyp, n).entrySet()) {
                    correct[n - 1] += Math.min(e.getValue(), maxRef.getOrDefault(e.getKey(), 0));
                }
                total[n - 1] += Math.max(0, hyp.length - n + 1);
            }
        }
        double logSum = 0;
        for (int n = 0; n < MAX_ORDER; n++) {
            if (correct[n] == 0) {
                return 0;   // no smoothing: a zero precision makes the geometric mean 0
            }
            logSum += Math.log((double) correct[n] / total[n]);
        }
        double brevity = predictionLength < referenceLength
                ? Math.exp(1 - (double) referenceLength / predictionLength) : 1;
        return 100 * brevity * Math.exp(logSum / MAX_ORDER);
    }

    /** sacreBLEU's "closest" reference length; on a tie the shorter one. */
    private static int closestLength(int hypLength, List<String> refs) {
        int best = -1;
        for (String ref : refs) {
            int len = tokenize13a(ref).length;
            if (best < 0 || Math.abs(len - hypLength) < Math.abs(best - hypLength)
                    || (Math.abs(len - hypLength) == Math.abs(best - hypLength) && len < best)) {
                best = len;
            }
        }
        return best;
    }

    private static Map<String, Integer> ngrams(String[] tokens, int n) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.length; i++) {
            counts.merge(String.join(" ", java.util.Arrays.copyOfRange(tokens, i, i + n)), 1, Integer::sum);
        }
        return counts;
    }

    /** sacreBLEU's {@code Tokenizer13a}: the mteval-v13a normalisation, then regexp tokenization. */
    static String[] tokenize13a(String line) {
        String s = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (s.contains("&")) {
            s = s.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        s = " " + s + " ";
        s = PUNCTUATION.matcher(s).replaceAll(" $1 ");
        s = PERIOD_COMMA_AFTER.matcher(s).replaceAll("$1 $2 ");
        s = PERIOD_COMMA_BEFORE.matcher(s).replaceAll(" $1 $2");
        s = DASH_AFTER_DIGIT.matcher(s).replaceAll("$1 $2 ");
        String trimmed = s.strip();
        return trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
    }
}
