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
 * @param examples the per-example scores, in dataset order; copied
 */
public record TaskResult(String task, Map<String, Double> metrics, List<ExampleScore> examples) {

    /**
     * Copies the collections.
     *
     * @param task the task's name
     * @param metrics the metrics
     * @param examples the per-example scores
     */
    public TaskResult {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        examples = List.copyOf(examples);
    }
}
