package org.llmkit.train;

import org.llmkit.api.model.ForwardOptions;

/**
 * The {@link ForwardOptions} of every forward pass of a run. A training micro-batch's LoRA dropout masks
 * are seeded by the run's seed, the optimizer step and the micro-batch's index within it, so a resumed run
 * draws exactly the masks the uninterrupted run would have drawn, without saving any generator state.
 * Evaluation forwards never drop. Both read packed documents apart when the run sets a document separator.
 */
final class ForwardPlan {
    private final double loraDropout;
    private final long seed;
    private final ForwardOptions base;

    /**
     * @param loraDropout the run's LoRA dropout, in [0, 1)
     * @param seed the run's seed
     * @param documentSeparator the token that ends packed documents, or -1
     */
    ForwardPlan(double loraDropout, long seed, int documentSeparator) {
        this.loraDropout = loraDropout;
        this.seed = seed;
        this.base = ForwardOptions.DEFAULT.withDocumentSeparator(documentSeparator);
    }

    /**
     * @param step the 0-based optimizer step
     * @param microBatch the 0-based micro-batch within the step
     * @return the options of that micro-batch's forward
     */
    ForwardOptions training(long step, int microBatch) {
        if (loraDropout == 0) {
            return base;
        }
        return base.withLoraDropout(loraDropout, mix(mix(mix(seed) + step) + microBatch));
    }

    /** @return the options of an evaluation forward */
    ForwardOptions evaluation() {
        return base;
    }

    /**
     * @param sequence a row
     * @return how many of its next-token predictions the loss scores (all but those made by a separator)
     */
    int scoredPredictions(int[] sequence) {
        int separator = base.documentSeparator();
        int scored = 0;
        for (int j = 0; j + 1 < sequence.length; j++) {
            scored += separator >= 0 && sequence[j] == separator ? 0 : 1;
        }
        return scored;
    }

    // SplittableRandom's mix64 finaliser: nearby inputs give unrelated seeds (seeds that differ by the
    // generator's own increment would otherwise give overlapping streams)
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
