package org.llmkit.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;
import org.llmkit.api.tensor.LogSoftmax;

/**
 * Log-likelihood of a continuation given a context, as lm-evaluation-harness computes it: encode
 * {@code context} and {@code context + continuation}, take the continuation's tokens as those after
 * the context's, run a forward over the whole and sum the log-softmax of each continuation token.
 *
 * <p>{@link #logLikelihoods} batches: requests are sorted by length (longest first, as lm-eval does,
 * so that padding stays small) and run {@code batchSize} at a time through {@link BatchedLogProbs}.
 * {@link #logLikelihood} is the one-at-a-time twin over {@code model.logits}; tests hold them equal.
 */
final class ChoiceScorer {
    private final LanguageModel model;
    private final Tokenizer tokenizer;

    /** A context and a continuation to score after it. */
    record Request(String context, String continuation) { }

    /** The tokens of a request: the whole sequence and how many of its last tokens are the continuation. */
    private record Encoded(int[] ids, int continuationTokens) { }

    ChoiceScorer(LanguageModel model) {
        this.model = model;
        this.tokenizer = model.tokenizer();
    }

    double logLikelihood(String context, String continuation) {
        Encoded e = encode(new Request(context, continuation));
        return sum(model.logits(e.ids()), e.ids(), e.ids().length - e.continuationTokens());
    }

    /**
     * Scores requests {@code batchSize} at a time.
     *
     * @return one summed log-likelihood per request, in request order
     */
    double[] logLikelihoods(List<Request> requests, int batchSize) {
        Encoded[] encoded = new Encoded[requests.size()];
        for (int i = 0; i < encoded.length; i++) {
            encoded[i] = encode(requests.get(i));
        }
        Integer[] order = new Integer[encoded.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -encoded[i].ids().length));
        double[] out = new double[encoded.length];
        for (int from = 0; from < order.length; from += batchSize) {
            int to = Math.min(from + batchSize, order.length);
            List<int[]> batch = new ArrayList<>(to - from);
            int k = 0;
            for (int j = from; j < to; j++) {
                batch.add(encoded[order[j]].ids());
                k = Math.max(k, encoded[order[j]].continuationTokens());
            }
            // every sequence in the batch is longer than k: the longest continuation sits after a non-empty context
            k = Math.min(k, batch.stream().mapToInt(s -> s.length).min().orElseThrow() - 1);
            double[][] scored = BatchedLogProbs.lastTokens(model, batch, k);
            for (int j = from; j < to; j++) {
                Encoded e = encoded[order[j]];
                if (e.continuationTokens() > k) {   // a short sequence beside a long continuation: score it alone
                    out[order[j]] = sum(model.logits(e.ids()), e.ids(), e.ids().length - e.continuationTokens());
                    continue;
                }
                double total = 0;
                for (int t = k - e.continuationTokens(); t < k; t++) {
                    total += scored[j - from][t];
                }
                out[order[j]] = total;
            }
        }
        return out;
    }

    private Encoded encode(Request request) {
        String context = request.context();
        // lm-eval moves the context's trailing spaces onto the continuation before encoding
        int keep = context.length();
        while (keep > 0 && context.charAt(keep - 1) == ' ') {
            keep--;
        }
        String ctx = context.substring(0, keep);
        String cont = context.substring(keep) + request.continuation();
        int[] contextIds = tokenizer.encode(ctx);
        int[] whole = tokenizer.encode(ctx + cont);
        if (contextIds.length == 0) {
            throw new IllegalArgumentException("the prompt encodes to no tokens and the tokenizer adds no BOS;"
                    + " give the task a non-empty template or context");
        }
        if (whole.length <= contextIds.length) {
            throw new IllegalArgumentException("continuation '" + request.continuation() + "' adds no tokens to its prompt");
        }
        int max = model.config().maxPositionEmbeddings();
        if (whole.length > max) {
            throw new IllegalArgumentException("prompt + choice is " + whole.length
                    + " tokens, longer than max_position_embeddings (" + max + "); use fewer shots or shorter text");
        }
        return new Encoded(whole, whole.length - contextIds.length);
    }

    /** Sums {@code log p(ids[t] | ids[..t))} for {@code t} in {@code [from, ids.length)}. */
    static double sum(float[][] logits, int[] ids, int from) {
        double total = 0;
        for (int t = from; t < ids.length; t++) {
            total += LogSoftmax.of(logits[t - 1], ids[t]);
        }
        return total;
    }
}
