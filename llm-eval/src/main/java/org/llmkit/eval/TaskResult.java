package org.llmkit.eval;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one task: its metrics and the per-example scores they came from.
 *
 * @param task the task's name
 * @param metrics metric name to value, in a stable order; copied, unmodifiable
 * @param examples the per-example choice scores of a multiple-choice or scale task, in dataset
 *     order; empty for a generation task; copied
 * @param generations the predictions of a generation task, in dataset order; empty otherwise; copied
 */
public record TaskResult(String task, Map<String, Double> metrics, List<ExampleScore> examples,
        List<String> generations) {

    /**
     * Copies the collections.
     *
     * @param task the task's name
     * @param metrics the metrics
     * @param examples the per-example scores
     * @param generations the predictions
     */
    public TaskResult {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        examples = List.copyOf(examples);
        generations = List.copyOf(generations);
    }

    /**
     * A result of a choice-scoring task, without generations.
     *
     * @param task the task's name
     * @param metrics the metrics
     * @param examples the per-example scores
     */
    public TaskResult(String task, Map<String, Double> metrics, List<ExampleScore> examples) {
        this(task, metrics, examples, List.of());
    }
}
