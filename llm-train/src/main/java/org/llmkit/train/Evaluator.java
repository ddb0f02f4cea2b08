package org.llmkit.train;

import ai.djl.ndarray.NDManager;
import org.llmkit.api.LanguageModel;
import org.llmkit.api.model.Losses;
import org.llmkit.api.model.NoGradient;
import org.llmkit.data.TokenDataset;

/** Validation loss and perplexity over every token of a held-out set, without autograd. */
final class Evaluator {
    private final LanguageModel model;
    private final TokenDataset data;
    private final int batchSize;
    private final ForwardPlan forwards;

    Evaluator(LanguageModel model, TokenDataset data, int batchSize, ForwardPlan forwards) {
        this.model = model;
        this.data = data;
        this.batchSize = batchSize;
        this.forwards = forwards;
    }

    /**
     * @param step the optimizer step the measurement belongs to
     * @return the token-weighted mean loss and its exponential
     */
    Evaluation evaluate(long step) {
        double nats = 0;
        long predicted = 0;
        try (NoGradient off = NoGradient.scope()) {
            for (long from = 0; from < data.size(); from += batchSize) {
                int n = (int) Math.min(batchSize, data.size() - from);
                int[][] batch = new int[n][];
                long batchPredicted = 0;
                for (int i = 0; i < n; i++) {
                    batch[i] = data.get(from + i);
                    batchPredicted += forwards.scoredPredictions(batch[i]);
                }
                try (NDManager scratch = model.manager().newSubManager()) {
                    // the batch mean is over its predicted tokens: weight it back to a sum
                    nats += Losses.causalLm(scratch, model.block(), batch, forwards.evaluation()).getFloat()
                            * batchPredicted;
                }
                predicted += batchPredicted;
            }
        }
        double loss = predicted == 0 ? 0 : nats / predicted;
        return new Evaluation(step, loss, Math.exp(loss));
    }
}
