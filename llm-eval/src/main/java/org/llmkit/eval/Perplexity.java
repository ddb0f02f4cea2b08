package org.llmkit.eval;

import java.util.List;
import java.util.Objects;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.tensor.LogSoftmax;

/**
 * Sliding-window perplexity, the algorithm of HF's "Perplexity of fixed-length models": windows of
 * at most {@code contextLength} tokens start every {@code stride} tokens; each window scores only
 * the tokens no earlier window scored, conditioned on everything before them inside the window.
 * With {@code stride == contextLength} windows are disjoint (a window's first token is then not
 * scored); a smaller stride gives every scored token more context at the cost of more forwards.
 *
 * <pre>{@code
 * PerplexityResult r = Perplexity.of(model).contextLength(1024).stride(512).compute(sequences);
 * }</pre>
 */
public final class Perplexity {
    private final LanguageModel model;
    private final int contextLength;
    private final int stride;

    private Perplexity(LanguageModel model, int contextLength, int stride) {
        this.model = model;
        this.contextLength = contextLength;
        this.stride = stride;
    }

    /**
     * Starts a computation with the model's full context ({@code max_position_embeddings}) and
     * {@code stride = contextLength}.
     *
     * @param model the model
     * @return the settings, to refine
     */
    public static Perplexity of(LanguageModel model) {
        Objects.requireNonNull(model, "model");
        int max = model.config().maxPositionEmbeddings();
        return new Perplexity(model, max, max);
    }

    /**
     * Sets the window length; the stride is clamped to it when larger.
     *
     * @param tokens in [2, max_position_embeddings]
     * @return a copy with the new length
     */
    public Perplexity contextLength(int tokens) {
        int max = model.config().maxPositionEmbeddings();
        if (tokens < 2 || tokens > max) {
            throw new IllegalArgumentException("contextLength must be in [2, " + max
                    + "] (max_position_embeddings), was " + tokens);
        }
        return new Perplexity(model, tokens, Math.min(stride, tokens));
    }

    /**
     * Sets how far each window starts after the previous one.
     *
     * @param tokens in [1, contextLength]
     * @return a copy with the new stride
     */
    public Perplexity stride(int tokens) {
        if (tokens < 1 || tokens > contextLength) {
            throw new IllegalArgumentException("stride must be in [1, " + contextLength + "] (contextLength), was "
                    + tokens);
        }
        return new Perplexity(model, contextLength, tokens);
    }

    /**
     * Returns the window length.
     *
     * @return the context length in tokens
     */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Returns the stride.
     *
     * @return the stride in tokens
     */
    public int stride() {
        return stride;
    }

    /**
     * Scores every sequence separately and pools the log-likelihoods, weighting by token.
     *
     * @param sequences token sequences, at least one, each of at least 2 tokens
     * @return the result
     */
    public PerplexityResult compute(List<int[]> sequences) {
        Objects.requireNonNull(sequences, "sequences");
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("perplexity needs at least one sequence; the held-out set is empty");
        }
        double nll = 0;
        long tokens = 0;
        long windows = 0;
        for (int s = 0; s < sequences.size(); s++) {
            int[] ids = Objects.requireNonNull(sequences.get(s), "sequences[" + s + "]");
            if (ids.length < 2) {
                throw new IllegalArgumentException("sequence " + s + " has " + ids.length
                        + " token(s); perplexity needs at least 2 (one context, one scored token)");
            }
            int previousEnd = 0;
            for (int begin = 0; previousEnd < ids.length; begin += stride) {
                int end = Math.min(begin + contextLength, ids.length);
                int[] window = java.util.Arrays.copyOfRange(ids, begin, end);
                float[][] logits = model.logits(window);
                // score targets [max(previousEnd, begin + 1), end): position t is predicted by logits[t - 1]
                for (int t = Math.max(previousEnd, begin + 1); t < end; t++) {
                    nll -= LogSoftmax.of(logits[t - 1 - begin], ids[t]);
                    tokens++;
                }
                windows++;
                previousEnd = end;
            }
        }
        return new PerplexityResult(Math.exp(nll / tokens), nll, tokens, windows, sequences.size());
    }

    /**
     * Counts the tokens {@link #compute(List)} would score in a sequence, without running the model.
     *
     * @param length the sequence length, at least 2
     * @return the number of scored tokens
     */
    public long scoredTokens(int length) {
        if (length < 2) {
            throw new IllegalArgumentException("length must be at least 2, was " + length);
        }
        long count = 0;
        int previousEnd = 0;
        for (int begin = 0; previousEnd < length; begin += stride) {
            int end = Math.min(begin + contextLength, length);
            count += end - Math.max(previousEnd, begin + 1);
            previousEnd = end;
        }
        return count;
    }
}
