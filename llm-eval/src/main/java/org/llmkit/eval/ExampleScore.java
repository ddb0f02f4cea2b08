package org.llmkit.eval;

import java.util.List;

/**
 * How the model scored one example's choices.
 *
 * @param gold the index of the correct choice
 * @param logLikelihoods per choice, the summed log-probability of its tokens given the prompt, in nats
 * @param characters per choice, its length in characters (the {@code acc_norm} divisor)
 * @param predicted the choice with the highest log-likelihood (the first on a tie)
 * @param predictedNormalized the choice with the highest log-likelihood per character
 */
public record ExampleScore(int gold, List<Double> logLikelihoods, List<Integer> characters, int predicted,
        int predictedNormalized) {

    /**
     * Copies the lists.
     *
     * @param gold the correct choice
     * @param logLikelihoods per-choice log-likelihoods
     * @param characters per-choice lengths
     * @param predicted the unnormalised prediction
     * @param predictedNormalized the length-normalised prediction
     */
    public ExampleScore {
        logLikelihoods = List.copyOf(logLikelihoods);
        characters = List.copyOf(characters);
    }

    static ExampleScore of(int gold, double[] logLikelihoods, List<String> choices) {
        int best = 0;
        int bestNorm = 0;
        for (int i = 1; i < logLikelihoods.length; i++) {
            if (logLikelihoods[i] > logLikelihoods[best]) {
                best = i;
            }
            if (logLikelihoods[i] / choices.get(i).length()
                    > logLikelihoods[bestNorm] / choices.get(bestNorm).length()) {
                bestNorm = i;
            }
        }
        return new ExampleScore(gold, java.util.Arrays.stream(logLikelihoods).boxed().toList(),
                choices.stream().map(String::length).toList(), best, bestNorm);
    }
}
