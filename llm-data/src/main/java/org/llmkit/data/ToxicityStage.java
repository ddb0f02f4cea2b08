package org.llmkit.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Drops documents whose toxicity score exceeds a threshold, as {@code toxic}. The live documents
 * of a batch are cut into one chunk per thread, each scored with {@link ToxicityScorer#scoreAll}.
 */
final class ToxicityStage implements Stage {

    static final String TOXIC = "toxic";

    private final ToxicityScorer scorer;
    private final double threshold;

    ToxicityStage(ToxicityScorer scorer, double threshold) {
        this.scorer = scorer;
        this.threshold = threshold;
    }

    @Override
    public String name() {
        return "toxicity";
    }

    @Override
    public void process(Batch batch, Workers workers) {
        List<Integer> alive = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            if (batch.alive(i)) {
                alive.add(i);
            }
        }
        int chunks = Math.max(1, Math.min(workers.threads(), alive.size()));
        workers.forEach(chunks, c -> {
            int from = alive.size() * c / chunks;
            int to = alive.size() * (c + 1) / chunks;
            List<String> texts = new ArrayList<>(to - from);
            for (int j = from; j < to; j++) {
                texts.add(batch.docs[alive.get(j)].text());
            }
            double[] scores = scorer.scoreAll(texts);
            if (scores.length != texts.size()) {
                throw new IllegalStateException(scorer.getClass().getName() + ".scoreAll returned " + scores.length
                        + " scores for " + texts.size() + " texts");
            }
            for (int j = from; j < to; j++) {
                double score = scores[j - from];
                if (Double.isNaN(score) || score < 0 || score > 1) {
                    throw new IllegalStateException(scorer.getClass().getName() + " scored document "
                            + batch.docs[alive.get(j)].id() + " " + score + "; scores must be in [0, 1]");
                }
                if (score > threshold) {
                    batch.dropReason[alive.get(j)] = TOXIC;
                }
            }
        });
    }
}
