/**
 * Evaluation of any {@link org.llmkit.api.LanguageModel}, gathered by {@link org.llmkit.eval.Evaluator}
 * into an immutable {@link org.llmkit.eval.EvalReport} (JSON, Markdown, HTML with charts, comparisons):
 * sliding-window {@link org.llmkit.eval.Perplexity}; tasks in the style of lm-evaluation-harness
 * ({@link org.llmkit.eval.MultipleChoiceTask} scored by log-likelihood, {@link org.llmkit.eval.ScaleTask},
 * {@link org.llmkit.eval.GenerationTask}) with the {@link org.llmkit.eval.Glue} and
 * {@link org.llmkit.eval.SuperGlue} benchmarks; exact {@link org.llmkit.eval.Metrics} with
 * {@link org.llmkit.eval.Bootstrap} intervals; {@link org.llmkit.eval.ToxicityProbe},
 * {@link org.llmkit.eval.BiasProbe} and {@link org.llmkit.eval.LatencyProbe}; human ratings collected by
 * {@link org.llmkit.eval.RatingServer}.
 */
package org.llmkit.eval;
