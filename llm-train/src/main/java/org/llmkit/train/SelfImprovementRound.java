package org.llmkit.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * What one round of {@link SelfImprovement} did.
 *
 * @param round 1-based round number
 * @param generated samples generated
 * @param kept samples that passed the filter and the scorer
 * @param dropped dropped samples by reason ({@code stage:reason} of the filter pipeline, or {@code score})
 * @param trainedOn synthetic samples in the round's training mix (kept, capped by the synthetic share)
 * @param realInMix real documents in the round's training mix
 * @param training the fine-tuning result
 * @param metricBefore the evaluation metric before the round
 * @param metricAfter the evaluation metric after the round
 * @param folder where the round's files are
 */
public record SelfImprovementRound(int round, int generated, int kept, Map<String, Integer> dropped, int trainedOn,
        int realInMix, TrainingResult training, double metricBefore, double metricAfter, Path folder) {

    /**
     * Copies the map.
     *
     * @param round 1-based round number
     * @param generated samples generated
     * @param kept samples kept
     * @param dropped dropped samples by reason
     * @param trainedOn synthetic samples trained on
     * @param realInMix real documents in the mix
     * @param training the fine-tuning result
     * @param metricBefore metric before
     * @param metricAfter metric after
     * @param folder the round's folder
     */
    public SelfImprovementRound {
        dropped = Map.copyOf(dropped);
    }

    /** @return the number of dropped samples over all reasons */
    public int droppedTotal() {
        return dropped.values().stream().mapToInt(Integer::intValue).sum();
    }
}
