package org.llmkit.eval;

/**
 * Token-weighted perplexity over a set of sequences.
 *
 * @param perplexity {@code exp(negativeLogLikelihood / tokens)}
 * @param negativeLogLikelihood the summed negative log-likelihood of the scored tokens, in nats
 * @param tokens the number of scored tokens (a sequence's first token is never scored)
 * @param windows the number of model forward passes (windows) over all sequences
 * @param sequences the number of sequences
 */
public record PerplexityResult(double perplexity, double negativeLogLikelihood, long tokens, long windows,
        long sequences) {

    /**
     * Checks the components.
     *
     * @param perplexity the perplexity
     * @param negativeLogLikelihood the summed negative log-likelihood, at least 0
     * @param tokens the number of scored tokens, at least 1
     * @param windows the number of windows, at least 1
     * @param sequences the number of sequences, at least 1
     */
    public PerplexityResult {
        if (tokens < 1 || windows < 1 || sequences < 1) {
            throw new IllegalArgumentException("tokens (" + tokens + "), windows (" + windows + ") and sequences ("
                    + sequences + ") must all be at least 1");
        }
    }

    /**
     * Returns the mean negative log-likelihood per scored token, the cross-entropy in nats.
     *
     * @return {@code negativeLogLikelihood / tokens}
     */
    public double meanNegativeLogLikelihood() {
        return negativeLogLikelihood / tokens;
    }
}
