package org.llmkit.data;

import java.util.List;

/**
 * Scores how toxic a text is, from 0 (not at all) to 1. Implementations must be safe for
 * concurrent use: pipelines call them from several threads at once.
 *
 * <p>Shipped: {@link WordListToxicityScorer} (a word list, fast) and {@link BertToxicityScorer} (a
 * transformers BERT sequence classifier run on DJL).
 */
public interface ToxicityScorer {

    /**
     * Scores one text.
     *
     * @param text the text
     * @return a score in [0, 1]
     */
    double score(String text);

    /**
     * Scores several texts; implementations that batch (a neural model) override this.
     *
     * @param texts the texts
     * @return one score in [0, 1] per text, in order
     */
    default double[] scoreAll(List<String> texts) {
        double[] scores = new double[texts.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = score(texts.get(i));
        }
        return scores;
    }
}
