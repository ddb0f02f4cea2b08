package org.llmkit.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs consecutive per-document steps of a {@link PipelinePlan} over batches of documents on the
 * calling thread, with the same stage code as the in-process pipeline, so that a backend gets the
 * same documents, drop reasons, tokens and report details. Create one per task with
 * {@link PipelinePlan#runner(int, int)}; not thread-safe.
 *
 * <pre>{@code
 * try (StepRunner runner = plan.runner(from, to)) {
 *     for (StepRunner.Outcome o : runner.process(batchOfDocuments)) { ... }
 *     Map<String, Object> languageDetails = runner.details(languageStep);
 * }
 * }</pre>
 */
public final class StepRunner implements AutoCloseable {

    /**
     * What became of one document.
     *
     * @param document the document after the steps, or null when dropped
     * @param droppedAt the plan index of the step that dropped it, or -1
     * @param reason the drop reason, or null
     * @param tokens the tokens when a tokenize step ran and kept it, else null
     */
    public record Outcome(Document document, int droppedAt, String reason, int[] tokens) {

        /**
         * Whether the document survived every step.
         *
         * @return true when kept
         */
        public boolean kept() {
            return droppedAt < 0;
        }
    }

    private final int firstStep;
    private final List<Stage> stages;
    private final TokenizeStage tokenize;
    private final Workers workers = new Workers(1);

    StepRunner(int firstStep, List<Stage> stages, TokenizeStage tokenize) {
        this.firstStep = firstStep;
        this.stages = stages;
        this.tokenize = tokenize;
        for (Stage stage : stages) {
            stage.start();
        }
    }

    /**
     * Runs the steps over a batch.
     *
     * @param documents the documents, in source order (the size is up to the caller; the
     *     pipeline's {@link PipelinePlan#batchSize()} is a good choice)
     * @return one outcome per document, in the same order
     */
    public List<Outcome> process(List<Document> documents) {
        Batch batch = new Batch(documents.toArray(Document[]::new), 0);
        int[] droppedAt = new int[batch.size()];
        java.util.Arrays.fill(droppedAt, -1);
        for (int s = 0; s < stages.size(); s++) {
            if (batch.aliveCount() == 0) {
                break;
            }
            stages.get(s).process(batch, workers);
            for (int i = 0; i < batch.size(); i++) {
                if (!batch.alive(i) && droppedAt[i] < 0) {
                    droppedAt[i] = firstStep + s;
                }
            }
        }
        List<Outcome> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            boolean kept = batch.alive(i);
            out.add(new Outcome(kept ? batch.docs[i] : null, droppedAt[i], batch.dropReason[i],
                    kept && batch.tokens != null ? batch.tokens[i] : null));
        }
        return out;
    }

    /**
     * Returns a step's report details so far (for example the language distribution).
     *
     * @param step the plan index of the step
     * @return the details; merge those of several runners with {@link #mergeDetails(Map, Map)}
     * @throws IllegalArgumentException when the step is not run by this runner
     */
    public Map<String, Object> details(int step) {
        int s = step - firstStep;
        if (s < 0 || s >= stages.size()) {
            throw new IllegalArgumentException("step " + step + " is not in this runner's steps [" + firstStep + ", "
                    + (firstStep + stages.size()) + ")");
        }
        return stages.get(s).details();
    }

    /**
     * Returns the documents per token-length bin so far (bin {@code b}: [2^b, 2^(b+1)) tokens).
     *
     * @return 32 counts, all zero without a tokenize step
     */
    public long[] tokenLengthCounts() {
        return tokenize == null ? new long[32] : tokenize.histogram().counts();
    }

    /**
     * Merges the details of one step from two runners: {@code Long} values are added, maps are
     * merged key by key the same way, and any other value (settings) is taken from {@code a}.
     *
     * @param a one runner's details
     * @param b the other's
     * @return the merged details, in {@code a}'s key order
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> mergeDetails(Map<String, Object> a, Map<String, Object> b) {
        Map<String, Object> merged = new LinkedHashMap<>(a);
        b.forEach((key, value) -> merged.merge(key, value, (x, y) -> {
            if (x instanceof Long lx && y instanceof Long ly) {
                return lx + ly;
            }
            if (x instanceof Map<?, ?> mx && y instanceof Map<?, ?> my) {
                Map<String, Object> m = mergeDetails((Map<String, Object>) mx, (Map<String, Object>) my);
                return mx instanceof java.util.SortedMap ? new java.util.TreeMap<>(m) : m;
            }
            return x;
        }));
        return merged;
    }

    /**
     * Turns token-length counts into the report's histogram bins.
     *
     * @param counts 32 counts, as {@link #tokenLengthCounts()} gives
     * @return the bins from the first to the last non-empty one
     */
    public static List<PipelineReport.Bin> histogram(long[] counts) {
        return TokenHistogram.bins(counts);
    }

    @Override
    public void close() {
        workers.close();
    }
}
