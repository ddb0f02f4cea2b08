package org.llmkit.eval;

import org.llmkit.api.LanguageModel;

/**
 * Something an {@link Evaluator} runs against a model to get named metrics: a
 * {@link MultipleChoiceTask}, a {@link ScaleTask} (a numeric answer such as STS-B's similarity) or a
 * {@link GenerationTask}.
 */
public interface Task {

    /**
     * Returns the task's name in reports.
     *
     * @return letters, digits, {@code _ - .}
     */
    String name();

    /**
     * Checks the settings that can be checked without a model, so that an evaluation fails before
     * any task runs. The default checks nothing.
     *
     * @throws IllegalArgumentException naming the bad setting
     */
    default void validate() {
    }

    /**
     * Runs the task.
     *
     * @param model a model with a tokenizer
     * @return the metrics and per-example details
     */
    TaskResult evaluate(LanguageModel model);
}
