package org.llmkit.train;

/**
 * A validation measurement.
 *
 * @param step the optimizer step after which it was taken (0 = before training)
 * @param loss the mean next-token cross-entropy over all validation tokens, in nats
 * @param perplexity {@code exp(loss)}
 */
public record Evaluation(long step, double loss, double perplexity) {
}
