/**
 * Evaluation of any {@link org.llmkit.api.LanguageModel}: sliding-window {@link org.llmkit.eval.Perplexity},
 * multiple-choice tasks scored by log-likelihood in the style of lm-evaluation-harness
 * ({@link org.llmkit.eval.MultipleChoiceTask}, {@link org.llmkit.eval.Glue}), exact
 * {@link org.llmkit.eval.Metrics} with {@link org.llmkit.eval.Bootstrap} intervals, all gathered by
 * {@link org.llmkit.eval.Evaluator} into an immutable {@link org.llmkit.eval.EvalReport}.
 */
package org.llmkit.eval;
