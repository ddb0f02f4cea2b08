/**
 * The end-to-end plan ({@link org.llmkit.samples.plan.Plan}): corpus, pipeline, training, evaluation, serving,
 * and the run folder that records them.
 */
package org.llmkit.samples.plan;
