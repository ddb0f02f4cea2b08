package org.llmkit.eval;

import org.llmkit.api.LanguageModel;
import org.llmkit.api.Tokenizer;

/**
 * Log-likelihood of a continuation given a context, as lm-evaluation-harness computes it: encode
 * {@code context} and {@code context + continuation}, take the continuation's tokens as those after
 * the context's, run one forward over the whole and sum the log-softmax of each continuation token.
 */
final class ChoiceScorer {
    private final LanguageModel model;
    private final Tokenizer tokenizer;

    ChoiceScorer(LanguageModel model) {
        this.model = model;
        this.tokenizer = model.tokenizer();
    }

    double logLikelihood(String context, String continuation) {
        // lm-eval moves the context's trailing spaces onto the continuation before encoding
        int keep = context.length();
        while (keep > 0 && context.charAt(keep - 1) == ' ') {
            keep--;
        }
        String ctx = context.substring(0, keep);
        String cont = context.substring(keep) + continuation;
        int[] contextIds = tokenizer.encode(ctx);
        int[] whole = tokenizer.encode(ctx + cont);
        if (contextIds.length == 0) {
            throw new IllegalArgumentException("the prompt encodes to no tokens and the tokenizer adds no BOS;"
                    + " give the task a non-empty template or context");
        }
        if (whole.length <= contextIds.length) {
            throw new IllegalArgumentException("continuation '" + continuation + "' adds no tokens to its prompt");
        }
        int max = model.config().maxPositionEmbeddings();
        if (whole.length > max) {
            throw new IllegalArgumentException("prompt + choice is " + whole.length
                    + " tokens, longer than max_position_embeddings (" + max + "); use fewer shots or shorter text");
        }
        return sum(model.logits(whole), whole, contextIds.length);
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
