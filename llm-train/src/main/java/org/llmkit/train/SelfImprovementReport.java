package org.llmkit.train;

import java.util.List;

/**
 * The outcome of {@link SelfImprovement#run()}.
 *
 * @param metric the evaluation's name ({@code held_out_loss} by default)
 * @param higherIsBetter whether a larger metric is an improvement
 * @param baseline the metric before the first round
 * @param rounds the rounds run, in order
 * @param stoppedEarly whether the loop stopped before the configured number of rounds
 * @param stopReason why it stopped ({@code "completed"} when all rounds ran)
 */
public record SelfImprovementReport(String metric, boolean higherIsBetter, double baseline,
        List<SelfImprovementRound> rounds, boolean stoppedEarly, String stopReason) {

    /**
     * Copies the list.
     *
     * @param metric the evaluation's name
     * @param higherIsBetter whether a larger metric is an improvement
     * @param baseline the metric before the first round
     * @param rounds the rounds run
     * @param stoppedEarly whether the loop stopped early
     * @param stopReason why it stopped
     */
    public SelfImprovementReport {
        rounds = List.copyOf(rounds);
    }

    /** @return the metric after the last round (the baseline when no round ran) */
    public double finalMetric() {
        return rounds.isEmpty() ? baseline : rounds.get(rounds.size() - 1).metricAfter();
    }
}
